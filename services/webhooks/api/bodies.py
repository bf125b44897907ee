"""Request bodies of webhooks' routes: strict structs, so every bad field is named in one 422."""

from __future__ import annotations

from typing import Annotated, TypeVar

import msgspec
from msgspec import UNSET, UnsetType

from events.webhooks import EVENT_TYPES, Audience
from services.webhooks.domain.addresses import MAX_URL_LENGTH
from shared.bounds import documented

T = TypeVar("T")

Url = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_URL_LENGTH, description="an https:// URL")]
TYPE_NAME = r"^[a-z_]+\.[a-z_]+$"
EventTypeName = Annotated[
    str,
    msgspec.Meta(min_length=1, max_length=64, pattern=TYPE_NAME, description="e.g. order.confirmed"),
    documented(max_length=64, pattern=TYPE_NAME),
]
EventTypes = Annotated[list[EventTypeName], msgspec.Meta(min_length=1, max_length=len(EVENT_TYPES))]
Description = Annotated[str, msgspec.Meta(max_length=500)]
OrgId = Annotated[str, msgspec.Meta(min_length=2, max_length=100, pattern=r"^[a-z0-9][a-z0-9._-]*$")]


class NewSubscription(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Subscribe ``url`` to ``event_types``; ``org`` and ``audience`` only when an operator subscribes for an
    organisation."""

    url: Url
    event_types: EventTypes
    description: Description = ""
    enabled: bool = True
    org: OrgId | None = None
    audience: Audience | None = None


class SubscriptionPatch(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Fields to change; absent fields stay. ``enabled: true`` re-enables a disabled subscription."""

    url: Url | UnsetType = UNSET
    event_types: EventTypes | UnsetType = UNSET
    description: Description | UnsetType = UNSET
    enabled: bool | UnsetType = UNSET


def given(value: T | UnsetType) -> T | None:
    return None if isinstance(value, UnsetType) else value
