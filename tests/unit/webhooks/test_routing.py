"""Who is told of an event, as what, and what of it: owners learnt from the first event of each stream, the
pool's aggregator told everything, each buyer only its own order lines."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from uuid import UUID

import pytest

from events.common import Money
from events.orders import OrderCancelled, OrderQuoted, OrderRequested, QuotedLine
from events.pooling import (
    AllocationAccepted,
    AllocationRequested,
    CapacityCommitted,
    DemandAdded,
    DemandUnmatched,
    LineProgress,
    LineQuantity,
    LotPassed,
    MonthQuantity,
    PoolOpened,
)
from services.webhooks.domain.routing import Known, Owner, lookups, owners_told, recipients

pytestmark = pytest.mark.unit

AT = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
POOL, REQUEST, LOT, MSME, PRODUCT, STANDARD = (UUID(f"01900000-0000-7000-8000-00000000b00{i}") for i in range(6))
MINE, THEIRS = UUID("01900000-0000-7000-8000-00000000c001"), UUID("01900000-0000-7000-8000-00000000c002")
LINE_A, LINE_B = UUID("01900000-0000-7000-8000-00000000d001"), UUID("01900000-0000-7000-8000-00000000d002")
KNOWN = Known(pools={POOL: "cirebon-rattan"}, requests={REQUEST: "cirebon-rattan"},
              buyers={MINE: "rotterdam-home", THEIRS: "osaka-trading"})  # fmt: skip


def progress(order: UUID, line: UUID, passed: int) -> LineProgress:
    return LineProgress(order_id=order, line_id=line, demand=500, accepted=500, delivered=passed, passed=passed,
                        shipped=0)  # fmt: skip


def lot_passed() -> LotPassed:
    """A lot whose units went to two buyers' lines."""
    return LotPassed(
        pool_id=POOL, lot_id=LOT, msme_id=MSME, quantity=300,
        lines=[LineQuantity(order_id=MINE, line_id=LINE_A, quantity=200),
               LineQuantity(order_id=THEIRS, line_id=LINE_B, quantity=100)],
        progress=[progress(MINE, LINE_A, 200), progress(THEIRS, LINE_B, 100)], at=AT,
    )  # fmt: skip


def test_the_first_event_of_each_stream_names_its_owner() -> None:
    opened = PoolOpened(pool_id=POOL, aggregator_org="cirebon-rattan", name="Baskets", hs_code="460212",
                        standard_id=STANDARD, standard_version=1, unit="PCE", currency="USD",
                        consolidation_point="Semarang", opened_by="aggregator:dewi", at=AT)  # fmt: skip
    assert owners_told(opened) == [Owner("pool", POOL, "cirebon-rattan")]
    added = DemandAdded(pool_id=POOL, aggregator_org="cirebon-rattan", order_id=MINE, line_id=LINE_A,
                        buyer_org="rotterdam-home", quantity=500, required_by=date(2027, 6, 1), confirmed_at=AT,
                        lines=[], progress=[], added_by="aggregator:dewi", at=AT)  # fmt: skip
    assert owners_told(added) == [Owner("pool", POOL, "cirebon-rattan"), Owner("order", MINE, "rotterdam-home")]
    requested = AllocationRequested(
        request_id=REQUEST, pool_id=POOL, aggregator_org="cirebon-rattan", proposal_id=LOT, msme_id=MSME,
        product_id=PRODUCT, hs_code="460212", standard_id=STANDARD, standard_version=1, unit="PCE", quantity=300,
        plan=[MonthQuantity(month="2027-04", quantity=300)], unit_price=Money(amount=Decimal("2.00"), currency="USD"),
        lines=[], expires_at=AT + timedelta(days=2), reason="cheapest", at=AT,
    )  # fmt: skip
    assert owners_told(requested) == [Owner("request", REQUEST, "cirebon-rattan")]
    assert owners_told(lot_passed()) == []


def test_a_pools_event_goes_whole_to_its_aggregator_and_cut_to_each_buyers_own_lines() -> None:
    event = lot_passed()
    assert lookups(event) == ({POOL}, set(), {MINE, THEIRS})
    told = {(r.org, r.audience): r for r in recipients(event, KNOWN)}
    assert {k: r.event_type for k, r in told.items()} == {
        ("cirebon-rattan", "aggregator"): "lot.passed",
        ("rotterdam-home", "buyer"): "order.line_progress",
        ("osaka-trading", "buyer"): "order.line_progress",
    }
    assert told["cirebon-rattan", "aggregator"].data == event
    mine = told["rotterdam-home", "buyer"].data
    assert isinstance(mine, LotPassed) and mine.quantity == 300
    assert [line.order_id for line in [*mine.lines, *mine.progress]] == [MINE, MINE]
    theirs = told["osaka-trading", "buyer"].data
    assert isinstance(theirs, LotPassed) and [line.line_id for line in theirs.lines] == [LINE_B]


def test_a_buyer_not_yet_known_is_told_nothing_rather_than_someone_else() -> None:
    told = recipients(lot_passed(), Known(pools={POOL: "cirebon-rattan"}, buyers={MINE: "rotterdam-home"}))
    assert [(r.org, r.event_type) for r in told] == [
        ("cirebon-rattan", "lot.passed"),
        ("rotterdam-home", "order.line_progress"),
    ]


def test_a_requests_answer_goes_to_the_aggregator_only() -> None:
    accepted = AllocationAccepted(
        request_id=REQUEST, pool_id=POOL, msme_id=MSME, product_id=PRODUCT, requested=300, quantity=300,
        shortfall=0, plan=[], lines=[LineQuantity(order_id=MINE, line_id=LINE_A, quantity=300)],
        accepted_by="msme:siti", at=AT,
    )  # fmt: skip
    told = recipients(accepted, Known(requests={REQUEST: "cirebon-rattan"}, buyers=KNOWN.buyers))
    assert [(r.org, r.audience, r.event_type) for r in told] == [("cirebon-rattan", "aggregator", "request.accepted")]


def test_an_orders_event_goes_to_the_buyer_and_the_aggregator_it_names() -> None:
    quoted = OrderQuoted(order_id=MINE, buyer_org="rotterdam-home", aggregator_org="cirebon-rattan", quote_number=1,
                         lines=[QuotedLine(line_id=LINE_A, unit_price=Money(amount=Decimal("3.05"), currency="USD"))],
                         lead_time_days=30, valid_until=AT, quoted_by="aggregator:dewi", at=AT)  # fmt: skip
    assert {(r.org, r.event_type) for r in recipients(quoted, Known())} == {
        ("rotterdam-home", "order.quoted"),
        ("cirebon-rattan", "order.quoted"),
    }
    assert all(r.data is quoted for r in recipients(quoted, Known()))
    unquoted = OrderCancelled(order_id=MINE, buyer_org="rotterdam-home", previous_state="requested", line_ids=[],
                              reason="changed", production_started=False, consequences=[],
                              cancelled_by="buyer:ana", at=AT)  # fmt: skip
    assert [(r.org, r.event_type) for r in recipients(unquoted, Known())] == [("rotterdam-home", "order.cancelled")]
    requested = OrderRequested(order_id=THEIRS, buyer_org="osaka-trading", lines=[], incoterm="FOB",
                               destination_country="JP", required_by=date(2027, 6, 1), requested_by="buyer:kenji",
                               at=AT)  # fmt: skip
    assert [(r.org, r.audience) for r in recipients(requested, KNOWN)] == [("osaka-trading", "buyer")]


def test_unmatched_demand_goes_to_its_aggregator_and_a_capacity_ledger_to_no_one() -> None:
    unmatched = DemandUnmatched(order_id=MINE, line_id=LINE_A, aggregator_org="cirebon-rattan",
                                buyer_org="rotterdam-home", hs_code="460212", standard_id=STANDARD,
                                standard_version=1, unit="PCE", quantity=500, required_by=date(2027, 6, 1),
                                confirmed_at=AT, reason="no open pool", at=AT)  # fmt: skip
    assert [(r.org, r.event_type) for r in recipients(unmatched, Known())] == [("cirebon-rattan", "demand.unmatched")]
    committed = CapacityCommitted(product_id=PRODUCT, msme_id=MSME, month="2027-04", units=300, committed=300,
                                  request_id=REQUEST, pool_id=POOL)  # fmt: skip
    assert recipients(committed, KNOWN) == []
