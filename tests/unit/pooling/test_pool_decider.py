"""The pool decider: demand by order line, proposals sent as requests, supply booked, never over-filled."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from uuid import UUID

import pytest

from events.common import Money
from events.pooling import (
    AllocationPolicy,
    CostTerms,
    DemandAdded,
    DemandRemoved,
    MonthQuantity,
    PoolingEvent,
    PoolOpened,
    ProposedSupply,
    SupplyBooked,
    SupplyLapsed,
    SupplyReleased,
    SupplyRequested,
)
from services.pooling.domain.pool import POOL
from services.pooling.domain.pool_commands import (
    AddDemand,
    Approve,
    Book,
    Lapse,
    PoolCommand,
    ProposalDraft,
    Propose,
    Release,
    RemoveDemand,
)
from services.pooling.domain.pool_state import Pool
from shared.kernel.errors import Conflict, InvalidInput, NotFound

pytestmark = pytest.mark.unit

AT = datetime(2027, 1, 4, 9, tzinfo=UTC)
POOL_ID = UUID(int=1)
STANDARD = UUID(int=2)
RATTAN = "460219"


def opened() -> PoolOpened:
    return PoolOpened(
        pool_id=POOL_ID, aggregator_org="nusantara-trading", name="Rattan baskets for Rotterdam", hs_code=RATTAN,
        standard_id=STANDARD, standard_version=1, unit="PCE", currency="USD", consolidation_point="IDSRG",
        opened_by="ana", at=AT,
    )  # fmt: skip


def line(number: int, quantity: int, required_by: date) -> AddDemand:
    return AddDemand(
        order_id=UUID(int=100 + number), line_id=UUID(int=200 + number), buyer_org="rotterdam-home",
        aggregator_org="nusantara-trading", hs_code=RATTAN, standard_id=STANDARD, standard_version=1, unit="PCE",
        quantity=quantity, required_by=required_by, confirmed_at=AT + timedelta(minutes=number), by="saga", at=AT,
    )  # fmt: skip


def supply(msme: int, quantity: int) -> ProposedSupply:
    return ProposedSupply(
        msme_id=UUID(int=300 + msme), product_id=UUID(int=400 + msme), msme_name=f"Rotan {msme}", quantity=quantity,
        unit_price=Money(amount=Decimal("4.10"), currency="USD"), tier_min_quantity=1,
        plan=[MonthQuantity(month="2027-02", quantity=quantity)],
        cost=CostTerms(
            price=Decimal(0), quality=Decimal(0), logistics=Decimal(0), handling=Decimal(0), total=Decimal(0)
        ),
        reason="chosen",
    )  # fmt: skip


def proposal(open_quantity: int, *supplies: ProposedSupply, number: int = 1) -> Propose:
    draft = ProposalDraft(
        allocations=supplies, excluded=(), allocated=sum(s.quantity for s in supplies), shortfall=0,
        binding_reasons=(), status="optimal", mip_gap=0.0, objective=Decimal(0),
    )  # fmt: skip
    return Propose(UUID(int=500 + number), open_quantity, draft, AllocationPolicy(), "aggregator", "ana", AT)


def approve(number: int, *requests: int) -> Approve:
    ids = tuple(UUID(int=600 + r) for r in requests)
    return Approve(UUID(int=500 + number), ids, AT + timedelta(hours=48), "ana", AT)


def run(commands: Sequence[PoolCommand], state: Pool | None = None) -> tuple[Pool, list[PoolingEvent]]:
    """Decide each command in turn on the state so far; the events of the last one."""
    current = POOL.fold([opened()]) if state is None else state
    events: list[PoolingEvent] = []
    for command in commands:
        events = list(POOL.decide(command, current))
        current = POOL.fold(events, current)
    return current, events


def test_demand_lines_add_up_and_a_repeat_of_the_same_line_changes_nothing() -> None:
    state, _ = run([line(1, 600, date(2027, 3, 1)), line(2, 400, date(2027, 4, 1))])
    assert state.demand == 1_000 and state.open == 1_000
    _, again = run([line(1, 600, date(2027, 3, 1))], state)
    assert again == []


def test_a_line_of_another_spec_does_not_join() -> None:
    other = AddDemand(**{**line(1, 10, date(2027, 3, 1)).__dict__, "unit": "KGM"})
    with pytest.raises(Conflict) as refused:
        run([other])
    assert refused.value.problem == "demand-mismatch"


def test_requests_are_assigned_to_the_earliest_required_line_first() -> None:
    state, events = run(
        [line(1, 300, date(2027, 5, 1)), line(2, 500, date(2027, 3, 1)), proposal(800, supply(1, 600)), approve(1, 1)]
    )
    (requested,) = [e for e in events if isinstance(e, SupplyRequested)]
    assert [(q.line_id.int, q.quantity) for q in requested.lines] == [(202, 500), (201, 100)]
    assert state.requested == 600 and state.open == 200


def test_accepting_books_supply_onto_lines_and_shows_their_progress() -> None:
    state, events = run([line(1, 1_000, date(2027, 3, 1)), proposal(1_000, supply(1, 600)), approve(1, 1)])
    state, events = run([Book(UUID(int=601), 400, AT)], state)
    (booked,) = events
    assert isinstance(booked, SupplyBooked) and booked.shortfall == 200
    assert [(p.demand, p.accepted) for p in booked.progress] == [(1_000, 400)]
    assert state.accepted == 400 and state.requested == 0 and state.open == 600
    assert state.set_aside[UUID(int=301)].reason == "partial"


def test_accepting_more_than_the_pool_still_needs_is_an_over_allocation() -> None:
    hedged: list[PoolCommand] = [
        line(1, 100, date(2027, 3, 1)),
        proposal(100, supply(1, 80), number=1),
        proposal(100, supply(2, 80), number=2),
        approve(1, 1),
        approve(2, 2),
    ]
    state, _ = run(hedged)
    assert state.requested == 160  # a hedged second proposal asks for more than is open
    state, _ = run([Book(UUID(int=601), 80, AT)], state)
    with pytest.raises(Conflict) as refused:
        run([Book(UUID(int=602), 80, AT)], state)
    assert refused.value.problem == "over-allocation"
    _, fits = run([Book(UUID(int=602), 20, AT)], state)
    assert fits[0].quantity == 20  # type: ignore[union-attr]


def test_a_stale_proposal_is_refused_and_so_is_approving_twice() -> None:
    state, _ = run([line(1, 100, date(2027, 3, 1)), proposal(100, supply(1, 50)), approve(1, 1)])
    with pytest.raises(Conflict) as stale:
        run([proposal(100, supply(2, 50), number=2)], state)
    assert stale.value.problem == "stale-proposal"
    with pytest.raises(Conflict):
        run([approve(1, 9)], state)


def test_a_declined_request_reopens_its_units_and_sets_the_msme_aside() -> None:
    state, _ = run([line(1, 100, date(2027, 3, 1)), proposal(100, supply(1, 100)), approve(1, 1)])
    state, events = run([Lapse(UUID(int=601), "declined", "loom broken", AT)], state)
    assert isinstance(events[0], SupplyLapsed) and state.open == 100
    assert state.set_aside[UUID(int=301)].detail == "loom broken"
    _, again = run([Lapse(UUID(int=601), "expired", "late", AT)], state)
    assert again == []


def test_booking_an_unknown_or_too_large_quantity_is_refused() -> None:
    state, _ = run([line(1, 100, date(2027, 3, 1)), proposal(100, supply(1, 50)), approve(1, 1)])
    with pytest.raises(InvalidInput):
        run([Book(UUID(int=601), 51, AT)], state)
    with pytest.raises(Conflict):
        run([Book(UUID(int=699), 1, AT)], state)


def test_removing_a_line_moves_its_accepted_units_to_the_other_lines() -> None:
    state, _ = run(
        [
            line(1, 100, date(2027, 3, 1)),
            line(2, 100, date(2027, 4, 1)),
            proposal(200, supply(1, 150)),
            approve(1, 1),
            Book(UUID(int=601), 150, AT),
        ]
    )
    state, events = run([RemoveDemand(UUID(int=101), UUID(int=201), "order cancelled", AT)], state)
    assert isinstance(events[0], DemandRemoved)
    assert [(p.line_id.int, p.accepted) for p in events[0].progress] == [(202, 100)]
    assert state.demand == 100 and state.accepted == 150  # the surplus is for the caller to release
    state, events = run([Release(UUID(int=601), 50, "demand left the pool", AT)], state)
    assert isinstance(events[0], SupplyReleased) and state.accepted == 100


def test_a_pool_that_was_never_opened_takes_no_demand() -> None:
    with pytest.raises(NotFound):
        POOL.decide(line(1, 1, date(2027, 3, 1)), Pool())


def test_added_demand_names_its_line_and_progress() -> None:
    _, (added,) = run([line(1, 250, date(2027, 3, 1))])
    assert isinstance(added, DemandAdded)
    assert [(q.line_id.int, q.quantity) for q in added.lines] == [(201, 250)]
    assert [(p.demand, p.accepted) for p in added.progress] == [(250, 0)]
