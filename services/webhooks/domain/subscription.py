"""A webhook subscription (stream ``webhook-<id>``): an organisation's URL, the event types it wants, its state.

Rules:
- a subscription asks for at least one event type, each known, each one its organisation's audience receives
  (buyers: their orders; aggregators: their pools and the orders they quoted), none twice; ``webhook.ping`` is
  sent on request whatever the types, so it is not asked for;
- a deleted subscription is gone: every later command finds nothing;
- disabling (after a streak of failures) happens once; an update with ``enabled: true`` re-enables;
- only an enabled subscription is pinged;
- each rotation makes the next secret; the one before it stays valid for a day, older ones stop at once.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import assert_never
from uuid import UUID

import msgspec

from events.webhooks import (
    BY_NAME,
    PING,
    Audience,
    SecretRotated,
    SubscriptionChanged,
    SubscriptionCreated,
    SubscriptionDeleted,
    WebhookDisabled,
    WebhookPinged,
    WebhooksEvent,
)
from shared.kernel.decider import Decider
from shared.kernel.errors import Conflict, FieldError, InvalidInput, NotFound


@dataclass(frozen=True)
class Subscription:
    subscription_id: UUID | None = None
    org: str = ""
    audience: Audience = "buyer"
    url: str = ""
    event_types: tuple[str, ...] = ()
    description: str = ""
    enabled: bool = False
    deleted: bool = False
    secret_version: int = 0

    @property
    def exists(self) -> bool:
        return self.subscription_id is not None and not self.deleted


class Subscribe(msgspec.Struct, frozen=True, kw_only=True):
    subscription_id: UUID
    org: str
    audience: Audience
    url: str
    event_types: list[str]
    description: str
    enabled: bool
    by: str
    at: datetime


class Change(msgspec.Struct, frozen=True, kw_only=True):
    """An update; a field left None keeps its value."""

    url: str | None = None
    event_types: list[str] | None = None
    description: str | None = None
    enabled: bool | None = None
    by: str
    at: datetime


class Delete(msgspec.Struct, frozen=True, kw_only=True):
    by: str
    at: datetime


class RotateSecret(msgspec.Struct, frozen=True, kw_only=True):
    previous_valid_until: datetime
    by: str
    at: datetime


class Disable(msgspec.Struct, frozen=True, kw_only=True):
    reason: str
    consecutive_failures: int
    failing_since: datetime
    last_error: str
    at: datetime


class Ping(msgspec.Struct, frozen=True, kw_only=True):
    by: str
    at: datetime


SubscriptionCommand = Subscribe | Change | Delete | RotateSecret | Disable | Ping


def event_type_errors(event_types: list[str], audience: Audience) -> list[FieldError]:
    """What is wrong with a subscription's list of event types, field by field."""
    if not event_types:
        return [FieldError("event_types", "must name at least one event type (GET /v1/webhook-event-types)")]
    errors: list[FieldError] = []
    seen: set[str] = set()
    for index, name in enumerate(event_types):
        where = f"event_types[{index}]"
        known = BY_NAME.get(name)
        if name in seen:
            errors.append(FieldError(where, f"{name} is named twice"))
        elif known is None:
            errors.append(FieldError(where, f"{name} is not an event type; GET /v1/webhook-event-types lists them"))
        elif name == PING:
            errors.append(FieldError(where, f"{PING} is sent on request (the ping route) whatever the event types"))
        elif audience not in known.audiences:
            errors.append(FieldError(where, f"{name} is not sent to {audience}s; it is for {_who(known.audiences)}"))
        seen.add(name)
    return errors


def _who(audiences: frozenset[Audience]) -> str:
    return " and ".join(f"{a}s" for a in sorted(audiences))


def _subscribe(command: Subscribe, state: Subscription) -> list[WebhooksEvent]:
    if state.subscription_id is not None:
        raise Conflict(f"webhook subscription {command.subscription_id} exists already")
    errors = event_type_errors(command.event_types, command.audience)
    if errors:
        raise InvalidInput(errors)
    return [
        SubscriptionCreated(
            subscription_id=command.subscription_id,
            org=command.org,
            audience=command.audience,
            url=command.url,
            event_types=list(command.event_types),
            description=command.description,
            enabled=command.enabled,
            created_by=command.by,
            at=command.at,
        )
    ]


def _change(command: Change, state: Subscription) -> list[WebhooksEvent]:
    assert state.subscription_id is not None
    event_types = list(state.event_types) if command.event_types is None else command.event_types
    if command.event_types is not None:
        errors = event_type_errors(event_types, state.audience)
        if errors:
            raise InvalidInput(errors)
    url = state.url if command.url is None else command.url
    description = state.description if command.description is None else command.description
    enabled = state.enabled if command.enabled is None else command.enabled
    if (url, tuple(event_types), description, enabled) == (
        state.url,
        state.event_types,
        state.description,
        state.enabled,
    ):
        return []
    return [
        SubscriptionChanged(
            subscription_id=state.subscription_id,
            org=state.org,
            audience=state.audience,
            url=url,
            event_types=event_types,
            description=description,
            enabled=enabled,
            changed_by=command.by,
            at=command.at,
        )
    ]


def decide(command: SubscriptionCommand, state: Subscription) -> list[WebhooksEvent]:
    if isinstance(command, Subscribe):
        return _subscribe(command, state)
    if not state.exists:
        raise NotFound("no such webhook subscription")
    assert state.subscription_id is not None
    sid, org = state.subscription_id, state.org
    match command:
        case Change():
            return _change(command, state)
        case Delete(by=by, at=at):
            return [SubscriptionDeleted(subscription_id=sid, org=org, deleted_by=by, at=at)]
        case RotateSecret(previous_valid_until=until, by=by, at=at):
            return [
                SecretRotated(
                    subscription_id=sid,
                    org=org,
                    secret_version=state.secret_version + 1,
                    previous_valid_until=until,
                    rotated_by=by,
                    at=at,
                )
            ]
        case Disable():
            if not state.enabled:
                return []
            return [
                WebhookDisabled(
                    subscription_id=sid,
                    org=org,
                    url=state.url,
                    reason=command.reason,
                    consecutive_failures=command.consecutive_failures,
                    failing_since=command.failing_since,
                    last_error=command.last_error,
                    at=command.at,
                )
            ]
        case Ping(by=by, at=at):
            if not state.enabled:
                raise Conflict("the subscription is disabled; enable it (PATCH enabled: true) before pinging it")
            return [WebhookPinged(subscription_id=sid, org=org, pinged_by=by, at=at)]
        case _:
            assert_never(command)


def evolve(state: Subscription, event: WebhooksEvent) -> Subscription:
    match event:
        case SubscriptionCreated():
            return Subscription(
                subscription_id=event.subscription_id,
                org=event.org,
                audience=event.audience,
                url=event.url,
                event_types=tuple(event.event_types),
                description=event.description,
                enabled=event.enabled,
                secret_version=1,
            )
        case SubscriptionChanged():
            return replace(
                state,
                url=event.url,
                event_types=tuple(event.event_types),
                description=event.description,
                enabled=event.enabled,
            )
        case SubscriptionDeleted():
            return replace(state, deleted=True, enabled=False)
        case SecretRotated():
            return replace(state, secret_version=event.secret_version)
        case WebhookDisabled():
            return replace(state, enabled=False)
        case WebhookPinged():
            return state
        case _:
            assert_never(event)


def subscription_stream(subscription_id: UUID) -> str:
    return f"webhook-{subscription_id}"


SUBSCRIPTION: Decider[SubscriptionCommand, Subscription, WebhooksEvent] = Decider(
    stream_type="webhook", initial_state=Subscription(), decide=decide, evolve=evolve
)
