"""Supply moves an order on: in production when accepted allocations cover every line, inspected when passed
lots do, shipped when shipped lots do; never backwards, never for an order that is not following supply."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest
from msgspec.structs import replace

from events import pooling as events
from services.orders.domain.line_progress import LineProgress
from services.orders.domain.milestones import covers, due_milestones
from services.orders.domain.order import ConfirmOrder, MarkInspected, MarkShipped, Order, StartProduction
from services.orders.read.supply_progress import reaching
from tests.unit.orders.fixtures import BASKETS, NOW, TRAYS, history, quote, request, state

pytestmark = pytest.mark.unit

LATER = NOW + timedelta(days=20)
CONSIGNMENT = UUID("01900000-0000-7000-8000-0000000000d1")


def confirmed() -> Order:
    return state(history(request(), quote(), ConfirmOrder(confirmed_by="buyer:ana", at=NOW)))


def after(*commands: StartProduction | MarkInspected | MarkShipped) -> Order:
    """The confirmed order after the saga's earlier commands."""
    return state(history(request(), quote(), ConfirmOrder(confirmed_by="buyer:ana", at=NOW), *commands))


def progress(baskets: LineProgress, trays: LineProgress) -> dict[UUID, LineProgress]:
    return {BASKETS: baskets, TRAYS: trays}


ALL_ACCEPTED = progress(LineProgress(allocated=20_000, accepted=20_000), LineProgress(allocated=5_000, accepted=5_000))
ALL_PASSED = progress(
    LineProgress(accepted=20_000, delivered=20_000, passed=20_000),
    LineProgress(accepted=5_000, delivered=5_000, passed=5_000),
)
ALL_SHIPPED = progress(
    LineProgress(accepted=20_000, delivered=20_000, passed=20_000, shipped=20_000),
    LineProgress(accepted=5_000, delivered=5_000, passed=5_000, shipped=5_000),
)


def test_accepted_allocations_on_every_line_start_production() -> None:
    assert due_milestones(confirmed(), ALL_ACCEPTED, LATER) == [StartProduction(at=LATER)]


def test_one_line_short_keeps_the_order_confirmed() -> None:
    short = progress(LineProgress(accepted=20_000), LineProgress(allocated=5_000, accepted=4_999))
    assert due_milestones(confirmed(), short, LATER) == []
    assert due_milestones(confirmed(), {BASKETS: LineProgress(accepted=20_000)}, LATER) == []


def test_units_asked_for_but_not_accepted_do_not_count() -> None:
    asked = progress(LineProgress(allocated=20_000), LineProgress(allocated=5_000))
    assert due_milestones(confirmed(), asked, LATER) == []


def test_passed_lots_on_every_line_mark_it_inspected_after_production() -> None:
    assert due_milestones(confirmed(), ALL_PASSED, LATER) == [StartProduction(at=LATER), MarkInspected(at=LATER)]
    in_production = after(StartProduction(at=NOW))
    assert due_milestones(in_production, ALL_PASSED, LATER) == [MarkInspected(at=LATER)]


def test_shipped_lots_on_every_line_ship_it_with_the_consignment() -> None:
    inspected = after(StartProduction(at=NOW), MarkInspected(at=NOW))
    assert due_milestones(inspected, ALL_SHIPPED, LATER, CONSIGNMENT) == [
        MarkShipped(at=LATER, consignment_id=CONSIGNMENT)
    ]


def test_a_returned_lot_does_not_take_the_order_back() -> None:
    in_production = after(StartProduction(at=NOW))
    reopened = progress(LineProgress(accepted=19_500, delivered=0), LineProgress(accepted=5_000))
    assert due_milestones(in_production, reopened, LATER) == []


@pytest.mark.parametrize("name", ["requested", "quoted", "cancelled", "shipped", "delivered"])
def test_orders_not_following_supply_are_left_alone(name: str) -> None:
    order = replace(confirmed(), state=name)
    assert due_milestones(order, ALL_SHIPPED, LATER) == []


def test_an_order_without_lines_is_never_covered() -> None:
    assert not covers(Order(), {}, "accepted")


def test_each_milestone_is_dated_by_when_its_measure_covered_the_last_line_not_by_the_event_heard_last() -> None:
    accepted, passed, shipped = NOW + timedelta(days=3), NOW + timedelta(days=9), NOW + timedelta(days=12)
    since = {"accepted": accepted, "passed": passed, "shipped": shipped}
    assert due_milestones(confirmed(), ALL_SHIPPED, LATER, CONSIGNMENT, since) == [
        StartProduction(at=accepted),
        MarkInspected(at=passed),
        MarkShipped(at=shipped, consignment_id=CONSIGNMENT),
    ]
    passed_only = progress(LineProgress(passed=20_000), LineProgress(passed=5_000))  # accepted counts released since
    assert due_milestones(confirmed(), passed_only, LATER, None, {"passed": passed}) == [
        StartProduction(at=passed),
        MarkInspected(at=passed),
    ]
    assert due_milestones(confirmed(), ALL_ACCEPTED, LATER, None, {}) == [StartProduction(at=LATER)]


def test_only_a_pool_event_that_brings_a_line_to_its_demand_can_move_its_order_on() -> None:
    order, line, other = UUID(int=1), UUID(int=2), UUID(int=3)

    def booked(accepted: int, passed: int = 0) -> events.SupplyBooked:
        totals = events.LineProgress(
            order_id=order, line_id=line, demand=300, accepted=accepted, delivered=passed, passed=passed, shipped=0
        )
        short = events.LineProgress(
            order_id=other, line_id=other, demand=500, accepted=100, delivered=0, passed=0, shipped=0
        )
        return events.SupplyBooked(
            pool_id=other, request_id=other, msme_id=other, product_id=other, requested=300, quantity=accepted,
            shortfall=0, lines=[], progress=[totals, short], at=NOW,
        )  # fmt: skip

    assert reaching(booked(accepted=299)) == set()
    assert reaching(booked(accepted=300)) == {order}
    assert reaching(booked(accepted=300, passed=300)) == {order}
    removed = events.DemandRemoved(
        pool_id=other, aggregator_org="cirebon", order_id=order, line_id=line, quantity=300, reason="cancelled",
        lines=[], progress=[], at=NOW,
    )  # fmt: skip
    assert reaching(removed) == {order}, "a line leaving its pool may leave the order's other lines covering it"
