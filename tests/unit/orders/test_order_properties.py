"""Whatever commands arrive in whatever order, an order only moves along its lifecycle."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import event as label
from hypothesis import given, settings
from hypothesis import strategies as st

from events.orders import OrderConfirmed, OrderQuoted
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
from shared.kernel.errors import GotongError
from tests.unit.orders.fixtures import NOW, quote, request

pytestmark = pytest.mark.unit

NEXT: dict[str, set[str]] = {
    "requested": {"quoted", "cancelled"},
    "quoted": {"quoted", "requested", "confirmed", "cancelled"},
    "confirmed": {"in_production", "cancelled"},
    "in_production": {"inspected", "cancelled"},
    "inspected": {"shipped", "cancelled"},
    "shipped": {"delivered"},
    "delivered": set(),
    "cancelled": set(),
}


@st.composite
def commands(draw: st.DrawFn) -> list[OrderCommand]:
    """Commands as they might arrive over a few weeks, time moving forward."""
    at = NOW
    sequence: list[OrderCommand] = []
    for _ in range(draw(st.integers(0, 25))):
        at += timedelta(hours=draw(st.integers(0, 48)))
        sequence.append(draw(command_at(at)))
    return sequence


KINDS = ["quote", "confirm", "expire", "produce", "inspect", "ship", "deliver"] * 3 + ["cancel"]
"""Cancelling is drawn rarely, so sequences often get far into the lifecycle."""


@st.composite
def command_at(draw: st.DrawFn, at: datetime) -> OrderCommand:
    match draw(st.sampled_from(KINDS)):
        case "quote":
            hours = draw(st.integers(1, 24 * 10))
            aggregator = draw(st.sampled_from(["cirebon-rattan", "surabaya-crafts"]))
            return quote(aggregator=aggregator, at=at, valid_for=timedelta(hours=hours))
        case "confirm":
            number = draw(st.none() | st.none() | st.integers(1, 4))
            return ConfirmOrder(confirmed_by="buyer:ana", at=at, quote_number=number)
        case "expire":
            return ExpireQuote(quote_number=draw(st.integers(1, 4)), at=at)
        case "produce":
            return StartProduction(at=at)
        case "inspect":
            return MarkInspected(at=at)
        case "ship":
            return MarkShipped(at=at)
        case "deliver":
            return MarkDelivered(delivered_by="buyer:ana", at=at)
        case _:
            return CancelOrder(reason="changed plans", cancelled_by="buyer:ana", at=at)


@settings(max_examples=200, deadline=None)
@given(commands())
def test_an_order_only_moves_along_its_lifecycle(sequence: list[OrderCommand]) -> None:
    history: list[OrderEvent] = list(ORDER.decide(request(), ORDER.initial_state))
    order = ORDER.fold(history)
    moves: set[str] = set()
    for command in sequence:
        try:
            events = ORDER.decide(command, order)
        except GotongError:
            continue
        for event in events:
            after = ORDER.evolve(order, event)
            assert order.state is not None and after.state in NEXT[order.state]
            if isinstance(event, OrderQuoted):
                assert event.quote_number == order.quotes_made + 1
                moves.add("quoted")
            if isinstance(event, OrderConfirmed):
                assert order.quote is not None and event.confirmed_at < order.quote.valid_until
                assert event.aggregator_org == order.quote.aggregator_org
            moves.add(after.state or "")
            order = after
            history.append(event)
    assert ORDER.fold(history) == order
    for state in sorted(moves):
        label(f"reached {state}")  # the statistics show how deep into the lifecycle examples go
