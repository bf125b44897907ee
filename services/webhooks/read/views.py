"""What webhooks' routes answer: subscriptions (never their secrets, but once), deliveries and their tries."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from events.base import event_tag
from events.webhooks import EventType


class Disabled(msgspec.Struct, frozen=True, kw_only=True):
    """Why and when Gotong stopped sending to the subscription; ``PATCH`` with ``enabled: true`` starts it again."""

    reason: str
    at: datetime


class Health(msgspec.Struct, frozen=True, kw_only=True):
    """Failed tries since the last success, and when that streak began."""

    consecutive_failures: int
    failing_since: datetime | None
    last_error: str | None
    last_success_at: datetime | None


class SubscriptionView(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    org: str
    audience: str
    url: str
    event_types: list[str]
    description: str
    enabled: bool
    disabled: Disabled | None
    secret_version: int
    secret_rotated_at: datetime | None
    previous_secret_valid_until: datetime | None
    """While set, messages carry a signature by the previous secret too."""
    health: Health
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int
    position: int = 0


class NewSubscription(msgspec.Struct, frozen=True, kw_only=True):
    """A subscription just made: ``secret`` (``whsec_…``) verifies its messages, and is shown this once."""

    secret: str
    subscription: SubscriptionView


class RotatedSecret(msgspec.Struct, frozen=True, kw_only=True):
    """The new secret, shown this once; the previous one still signs until ``previous_secret_valid_until``."""

    secret: str
    previous_secret_valid_until: datetime
    subscription: SubscriptionView


class DeliveryView(msgspec.Struct, frozen=True, kw_only=True):
    """One message to one subscription; ``id`` is its ``webhook-id``, the same on every try."""

    id: str
    subscription_id: UUID
    event_id: UUID
    event_type: str
    event: str
    status: str
    """``pending`` (waiting for its turn or its next try), ``delivered`` or ``failed`` (given up)."""
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    last_attempted_at: datetime | None
    delivered_at: datetime | None
    response_status: int | None
    response_body: str | None
    latency_ms: int | None
    error: str | None


class AttemptView(msgspec.Struct, frozen=True, kw_only=True):
    number: int
    at: datetime
    response_status: int | None
    response_body: str | None
    """The start of the receiver's answer (at most 1 kB)."""
    latency_ms: int
    error: str | None


class DeliveryDetail(DeliveryView, frozen=True, kw_only=True):
    payload: dict[str, Any]
    """The body as sent."""
    tries: list[AttemptView]


class PingView(msgspec.Struct, frozen=True, kw_only=True):
    """A test message on its way: its delivery appears under ``id`` within moments."""

    id: str
    subscription_id: UUID
    event_id: UUID


class EventTypeView(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    description: str
    audiences: list[str]
    events: list[str]
    """The event structs a message of this type carries as ``data`` (see events/schema/events.schema.json)."""


def event_type_view(event_type: EventType) -> EventTypeView:
    return EventTypeView(
        name=event_type.name,
        description=event_type.description,
        audiences=sorted(event_type.audiences),
        events=[event_tag(cls) for cls in event_type.events],
    )


def health_view(row: Mapping[str, Any] | None) -> Health:
    if row is None:
        return Health(consecutive_failures=0, failing_since=None, last_error=None, last_success_at=None)
    return Health(
        consecutive_failures=row["consecutive_failures"],
        failing_since=row["failing_since"],
        last_error=row["last_error"],
        last_success_at=row["last_success_at"],
    )


def subscription_view(
    row: asyncpg.Record, health: Mapping[str, Any] | None, now: datetime, position: int = 0
) -> SubscriptionView:
    disabled = row["disabled_reason"]
    until = row["previous_secret_valid_until"]
    return SubscriptionView(
        id=row["id"],
        org=row["org"],
        audience=row["audience"],
        url=row["url"],
        event_types=list(row["event_types"]),
        description=row["description"],
        enabled=row["enabled"],
        disabled=Disabled(reason=disabled, at=row["disabled_at"]) if disabled else None,
        secret_version=row["secret_version"],
        secret_rotated_at=row["secret_rotated_at"],
        previous_secret_valid_until=until if until is not None and until > now else None,
        health=health_view(health),
        created_by=row["created_by"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        version=row["version"],
        position=position,
    )


def _delivery_fields(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": row["message_id"],
        "subscription_id": row["subscription_id"],
        "event_id": row["event_id"],
        "event_type": row["event_type"],
        "event": row["event"],
        "status": row["status"],
        "attempts": row["attempts"],
        "created_at": row["created_at"],
        "next_attempt_at": row["next_attempt_at"] if row["status"] == "pending" else None,
        "last_attempted_at": row["last_attempted_at"],
        "delivered_at": row["delivered_at"],
        "response_status": row["response_status"],
        "response_body": row["response_body"],
        "latency_ms": row["latency_ms"],
        "error": row["error"],
    }


def delivery_view(row: asyncpg.Record) -> DeliveryView:
    return DeliveryView(**_delivery_fields(row))


def delivery_detail(row: asyncpg.Record, tries: list[asyncpg.Record]) -> DeliveryDetail:
    return DeliveryDetail(
        **_delivery_fields(row),
        payload=msgspec.json.decode(bytes(row["body"])),
        tries=[
            AttemptView(
                number=t["number"],
                at=t["at"],
                response_status=t["response_status"],
                response_body=t["response_body"],
                latency_ms=t["latency_ms"],
                error=t["error"],
            )
            for t in tries
        ],
    )
