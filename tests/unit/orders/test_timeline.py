"""Other services' events told in an order's history: which orders an event names, and what it means for one."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID

import pytest

from events.common import Money
from events.pooling import (
    AllocationDeclined,
    AllocationRequested,
    CapacityCommitted,
    DemandCancelled,
    LineQuantity,
    LotReceived,
    MonthQuantity,
    SupplyBooked,
)
from events.quality import ClassPlan
from services.orders.domain.timeline import TOLD, orders_named, pooling_summary, verdict_summary

pytestmark = pytest.mark.unit

AT = datetime(2027, 2, 1, 10, 30, tzinfo=UTC)
ORDER = UUID("01900000-0000-7000-8000-000000000001")
OTHER = UUID("01900000-0000-7000-8000-000000000002")
LINE, OTHER_LINE = UUID(int=11), UUID(int=12)
POOL, REQUEST, WEAVER, BASKET = UUID(int=21), UUID(int=22), UUID(int=23), UUID(int=24)
NAMES = {WEAVER: "Rotan Cirebon Jaya"}
SPLIT = [
    LineQuantity(order_id=ORDER, line_id=LINE, quantity=400),
    LineQuantity(order_id=OTHER, line_id=OTHER_LINE, quantity=200),
]


def requested() -> AllocationRequested:
    return AllocationRequested(
        request_id=REQUEST, pool_id=POOL, aggregator_org="cirebon-trading", proposal_id=UUID(int=25),
        msme_id=WEAVER, product_id=BASKET, hs_code="460212", standard_id=UUID(int=26), standard_version=1,
        unit="PCE", quantity=600, plan=[MonthQuantity(month="2027-02", quantity=600)],
        unit_price=Money(amount=Decimal("3.10"), currency="USD"), lines=SPLIT, expires_at=AT, reason="cheapest",
        at=AT,
    )  # fmt: skip


def test_an_event_names_the_orders_of_its_lines_or_its_own_order() -> None:
    assert orders_named(requested()) == {ORDER, OTHER}
    assert orders_named(DemandCancelled(order_id=ORDER, line_ids=[LINE], reason="cancelled", at=AT)) == {ORDER}
    committed = CapacityCommitted(
        product_id=BASKET, msme_id=WEAVER, month="2027-02", units=600, committed=600, request_id=REQUEST, pool_id=POOL
    )
    assert orders_named(committed) == set()


def test_a_request_serving_two_orders_says_how_much_is_for_this_one() -> None:
    summary = pooling_summary(requested(), ORDER, NAMES)
    assert summary == (
        "MSME Rotan Cirebon Jaya asked to make 600 (400 for this order) PCE at 3.10 USD (600 in 2027-02), "
        "to answer by 2027-02-01 10:30 UTC"
    )
    declined = AllocationDeclined(
        request_id=REQUEST, pool_id=POOL, msme_id=WEAVER, product_id=BASKET, quantity=600, reason="loom broken",
        lines=[SPLIT[0]], declined_by="msme:siti", at=AT,
    )  # fmt: skip
    assert pooling_summary(declined, ORDER, {}) == f"MSME {WEAVER} declined 600 (400 for this order) units: loom broken"


def test_a_lot_is_told_with_its_code_and_the_pools_own_bookkeeping_is_not() -> None:
    received = LotReceived(
        pool_id=POOL, aggregator_org="cirebon-trading", lot_id=UUID(int=31), msme_id=WEAVER, product_id=BASKET,
        quantity=400, lot_code="CRB-7", delivered_on=date(2027, 2, 20), hs_code="460212", standard_id=UUID(int=26),
        standard_version=1, unit="PCE", lines=[SPLIT[0]], progress=[], received_by="msme:siti", at=AT,
    )  # fmt: skip
    assert pooling_summary(received, ORDER, NAMES) == (
        "Lot CRB-7 of 400 PCE from MSME Rotan Cirebon Jaya received (delivered 2027-02-20)"
    )
    booked = SupplyBooked(
        pool_id=POOL, request_id=REQUEST, msme_id=WEAVER, product_id=BASKET, requested=600, quantity=600,
        shortfall=0, lines=SPLIT, progress=[], at=AT,
    )  # fmt: skip
    assert not isinstance(booked, TOLD) and pooling_summary(booked, ORDER, NAMES) is None


def test_a_verdict_names_its_plans_and_why_a_lot_was_rejected() -> None:
    plan = ClassPlan(
        defect_class="major", aql=Decimal("1.0"), code_letter="H", sample_size=50, accept=1, reject=2,
        inspect_whole_lot=False,
    )  # fmt: skip
    rejected = verdict_summary(
        accepted=False, lot="CRB-7", msme="Rotan Cirebon Jaya", severity="normal", inspector_org="sucofindo-qc",
        plans=[plan], reasons=["major: 3 defects reach Re 2"],
    )  # fmt: skip
    assert rejected == (
        "Lot CRB-7 of MSME Rotan Cirebon Jaya rejected at normal inspection by sucofindo-qc "
        "(major AQL 1.0: code H, n=50, Ac 1 Re 2): major: 3 defects reach Re 2"
    )
    accepted = verdict_summary(
        accepted=True, lot="CRB-8", msme="Rotan Cirebon Jaya", severity="tightened", inspector_org="sucofindo-qc",
        plans=[plan], reasons=["all classes within Ac"],
    )  # fmt: skip
    assert accepted.endswith("(major AQL 1.0: code H, n=50, Ac 1 Re 2)")
