"""Every command from every state of an order: the legal transitions and the 409s with the current state."""

from __future__ import annotations

from datetime import timedelta

import pytest

from events.orders import (
    OrderCancelled,
    OrderConfirmed,
    OrderDelivered,
    OrderInProduction,
    OrderInspected,
    OrderQuoted,
    OrderShipped,
    QuoteExpired,
)
from services.orders.domain.order import (
    ORDER,
    CancelOrder,
    ConfirmOrder,
    ExpireQuote,
    MarkDelivered,
    MarkInspected,
    MarkShipped,
    OrderCommand,
    OrderEvent,
    StartProduction,
)
from shared.kernel.errors import Conflict
from tests.support.given import invalid_fields, then, then_raises
from tests.unit.orders.fixtures import NOW, history, quote, request, state

pytestmark = pytest.mark.unit

LATER = NOW + timedelta(days=1)
CONFIRM = ConfirmOrder(confirmed_by="buyer:ana", at=LATER)
CANCEL = CancelOrder(reason="the retailer dropped the range", cancelled_by="buyer:ana", at=LATER)
PRODUCE = StartProduction(at=LATER)
INSPECT = MarkInspected(at=LATER)
SHIP = MarkShipped(at=LATER)
DELIVER = MarkDelivered(delivered_by="buyer:ana", at=LATER)

PATH: list[OrderCommand] = [request(), quote(), CONFIRM, PRODUCE, INSPECT, SHIP, DELIVER]
STATES = ["requested", "quoted", "confirmed", "in_production", "inspected", "shipped", "delivered"]


def at_state(name: str) -> list[OrderEvent]:
    if name == "cancelled":
        return history(request(), CANCEL)
    return history(*PATH[: STATES.index(name) + 1])


def test_the_happy_path_walks_every_state_in_order() -> None:
    events = history(*PATH)
    assert [type(e) for e in events[1:]] == [
        OrderQuoted,
        OrderConfirmed,
        OrderInProduction,
        OrderInspected,
        OrderShipped,
        OrderDelivered,
    ]
    order = state(events)
    assert order.state == "delivered"
    assert list(order.milestones) == STATES


# (command, the one state it moves on from, the event it gives, states where it is already settled)
TRANSITIONS = [
    ("quote", quote(at=LATER), "requested", OrderQuoted, set()),
    ("confirm", CONFIRM, "quoted", OrderConfirmed, set()),
    ("produce", PRODUCE, "confirmed", OrderInProduction, {"in_production", "inspected", "shipped", "delivered"}),
    ("inspect", INSPECT, "in_production", OrderInspected, {"inspected", "shipped", "delivered"}),
    ("ship", SHIP, "inspected", OrderShipped, {"shipped", "delivered"}),
    ("deliver", DELIVER, "shipped", OrderDelivered, {"delivered"}),
]


@pytest.mark.parametrize("current", [*STATES, "cancelled"])
@pytest.mark.parametrize(
    ("name", "command", "source", "event", "settled"), TRANSITIONS, ids=[t[0] for t in TRANSITIONS]
)
def test_each_command_moves_only_from_its_state_and_is_409_elsewhere(
    current: str, name: str, command: OrderCommand, source: str, event: type, settled: set[str]
) -> None:
    given = at_state(current)
    if current == source or (name == "quote" and current == "quoted"):
        assert [type(e) for e in then(ORDER, given, command)] == [event]
    elif current in settled:
        assert then(ORDER, given, command) == []
    else:
        refused = then_raises(ORDER, given, command, Conflict)
        assert refused.problem == "illegal-transition"
        assert refused.extensions["state"] == current


@pytest.mark.parametrize("current", ["requested", "quoted", "confirmed", "in_production", "inspected"])
def test_the_buyer_may_cancel_until_the_order_ships(current: str) -> None:
    (cancelled,) = then(ORDER, at_state(current), CANCEL)
    assert isinstance(cancelled, OrderCancelled)
    assert cancelled.previous_state == current
    assert cancelled.reason == "the retailer dropped the range"
    assert cancelled.production_started == (current in ("in_production", "inspected"))
    assert len(cancelled.line_ids) == 2


@pytest.mark.parametrize("current", ["shipped", "delivered", "cancelled"])
def test_a_shipped_delivered_or_cancelled_order_cannot_be_cancelled(current: str) -> None:
    refused = then_raises(ORDER, at_state(current), CANCEL, Conflict)
    assert refused.extensions["state"] == current


def test_cancelling_after_production_started_records_what_it_sets_off() -> None:
    (cancelled,) = then(ORDER, at_state("in_production"), CANCEL)
    assert isinstance(cancelled, OrderCancelled)
    assert "allocations released" in cancelled.consequences
    assert "committed MSME capacity released" in cancelled.consequences
    assert cancelled.aggregator_org == "cirebon-rattan"
    (early,) = then(ORDER, at_state("requested"), CANCEL)
    assert isinstance(early, OrderCancelled) and early.consequences == [] and early.aggregator_org is None


def test_a_cancelled_order_remembers_why_and_from_where() -> None:
    order = state(at_state("in_production") + then(ORDER, at_state("in_production"), CANCEL))
    assert order.state == "cancelled"
    assert order.cancellation is not None and order.cancellation.previous_state == "in_production"


def test_cancelling_needs_a_reason() -> None:
    blank = CancelOrder(reason="  ", cancelled_by="buyer:ana", at=LATER)
    assert invalid_fields(ORDER, at_state("quoted"), blank) == {"reason"}


@pytest.mark.parametrize("command", [CONFIRM, PRODUCE, INSPECT, SHIP, DELIVER, CANCEL, quote()])
def test_nothing_can_happen_to_an_order_that_was_never_requested(command: OrderCommand) -> None:
    refused = then_raises(ORDER, [], command, Conflict)
    assert refused.extensions["state"] == "not requested"


def test_shipping_records_the_consignment() -> None:
    from uuid import UUID

    consignment = UUID("01900000-0000-7000-8000-0000000000d1")
    (shipped,) = then(ORDER, at_state("inspected"), MarkShipped(at=LATER, consignment_id=consignment))
    assert isinstance(shipped, OrderShipped) and shipped.consignment_id == consignment


def test_an_expire_command_for_a_quote_never_made_does_nothing() -> None:
    assert then(ORDER, at_state("requested"), ExpireQuote(quote_number=1, at=LATER + timedelta(days=30))) == []
    assert [
        type(e) for e in then(ORDER, at_state("quoted"), ExpireQuote(quote_number=1, at=NOW + timedelta(days=7)))
    ] == [QuoteExpired]
