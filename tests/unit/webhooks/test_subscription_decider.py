"""The subscription decider: event types checked against the audience, deletion final, disabling once,
pings only while enabled, each rotation the next secret."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from events.webhooks import SecretRotated, SubscriptionChanged, SubscriptionCreated, WebhookDisabled, WebhookPinged
from services.webhooks.domain.subscription import (
    SUBSCRIPTION,
    Change,
    Delete,
    Disable,
    Ping,
    RotateSecret,
    Subscribe,
)
from shared.kernel.errors import Conflict, NotFound
from tests.support.given import history, invalid_fields, then, then_raises

pytestmark = pytest.mark.unit

AT = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
ID = UUID("01900000-0000-7000-8000-00000000a001")
URL = "https://erp.rotterdam-home.example/gotong"


def subscribe(event_types: list[str] | None = None, **changes: object) -> Subscribe:
    fields: dict[str, object] = {
        "subscription_id": ID,
        "org": "rotterdam-home",
        "audience": "buyer",
        "url": URL,
        "event_types": event_types if event_types is not None else ["order.confirmed", "order.line_progress"],
        "description": "ERP",
        "enabled": True,
        "by": "buyer:ana",
        "at": AT,
    }
    return Subscribe(**{**fields, **changes})  # type: ignore[arg-type]


def disable(failures: int = 3) -> Disable:
    return Disable(reason="3 tries in a row failed", consecutive_failures=failures, failing_since=AT,
                   last_error="answered 503", at=AT + timedelta(minutes=1))  # fmt: skip


SUBSCRIBED = history(SUBSCRIPTION, subscribe())


def test_a_buyer_subscribes_to_its_event_types() -> None:
    [created] = then(SUBSCRIPTION, [], subscribe())
    assert isinstance(created, SubscriptionCreated)
    assert created.event_types == ["order.confirmed", "order.line_progress"] and created.enabled


def test_unknown_repeated_foreign_and_ping_types_are_each_named() -> None:
    when = subscribe(["order.confirmed", "lot.passed", "order.teleported", "order.confirmed", "webhook.ping"])
    assert invalid_fields(SUBSCRIPTION, [], when) == {
        "event_types[1]", "event_types[2]", "event_types[3]", "event_types[4]",
    }  # fmt: skip
    assert invalid_fields(SUBSCRIPTION, [], subscribe([])) == {"event_types"}
    assert invalid_fields(SUBSCRIPTION, [], subscribe(["order.line_progress"], audience="aggregator")) == {
        "event_types[0]"
    }


def test_a_subscription_is_made_once() -> None:
    then_raises(SUBSCRIPTION, SUBSCRIBED, subscribe(), Conflict)


def test_a_change_states_the_whole_subscription_and_no_change_states_nothing() -> None:
    [changed] = then(SUBSCRIPTION, SUBSCRIBED, Change(enabled=False, by="buyer:ana", at=AT))
    assert isinstance(changed, SubscriptionChanged)
    assert (changed.url, changed.event_types, changed.enabled) == (
        URL,
        ["order.confirmed", "order.line_progress"],
        False,
    )
    assert then(SUBSCRIPTION, SUBSCRIBED, Change(url=URL, description="ERP", by="buyer:ana", at=AT)) == []
    bad = Change(event_types=["pool.filled"], by="buyer:ana", at=AT)
    assert invalid_fields(SUBSCRIPTION, SUBSCRIBED, bad) == {"event_types[0]"}


def test_a_deleted_subscription_is_found_no_more() -> None:
    deleted = history(SUBSCRIPTION, subscribe(), Delete(by="buyer:ana", at=AT))
    for command in (
        Delete(by="buyer:ana", at=AT),
        Change(enabled=True, by="buyer:ana", at=AT),
        RotateSecret(previous_valid_until=AT, by="buyer:ana", at=AT),
        Ping(by="buyer:ana", at=AT),
        disable(),
    ):
        then_raises(SUBSCRIPTION, deleted, command, NotFound)
    then_raises(SUBSCRIPTION, [], Ping(by="buyer:ana", at=AT), NotFound)


def test_disabling_happens_once_and_an_update_enables_again() -> None:
    [disabled] = then(SUBSCRIPTION, SUBSCRIBED, disable())
    assert isinstance(disabled, WebhookDisabled) and disabled.url == URL and disabled.consecutive_failures == 3
    off = [*SUBSCRIBED, disabled]
    assert then(SUBSCRIPTION, off, disable(4)) == []
    then_raises(SUBSCRIPTION, off, Ping(by="buyer:ana", at=AT), Conflict)
    [enabled] = then(SUBSCRIPTION, off, Change(enabled=True, by="buyer:ana", at=AT))
    assert isinstance(enabled, SubscriptionChanged) and enabled.enabled
    [pinged] = then(SUBSCRIPTION, [*off, enabled], Ping(by="buyer:ana", at=AT))
    assert isinstance(pinged, WebhookPinged)


def test_each_rotation_makes_the_next_secret() -> None:
    rotate = RotateSecret(previous_valid_until=AT + timedelta(days=1), by="buyer:ana", at=AT)
    [first] = then(SUBSCRIPTION, SUBSCRIBED, rotate)
    [second] = then(SUBSCRIPTION, [*SUBSCRIBED, first], rotate)
    assert isinstance(first, SecretRotated) and isinstance(second, SecretRotated)
    assert (first.secret_version, second.secret_version) == (2, 3)
