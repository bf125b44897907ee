"""A pool's lots: only accepted supply is delivered, verdicts count once, the pool fills, the consignment
ships what passed."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from uuid import UUID

import pytest

from events.pooling import ConsignmentShipped, LotPassed, LotReceived, LotReturned, PoolFilled
from services.pooling.domain.pool_commands import Book, PassLot, ReceiveLot, ReturnLot, Ship
from shared.kernel.errors import Conflict, InvalidInput
from tests.unit.pooling.test_pool_decider import AT, approve, line, proposal, run, supply

pytestmark = pytest.mark.unit

MSME = UUID(int=301)


def accepted_pool(demand: int = 500, booked: int = 500):  # type: ignore[no-untyped-def]
    state, _ = run([line(1, demand, date(2027, 3, 1)), proposal(demand, supply(1, booked)), approve(1, 1)])
    state, _ = run([Book(UUID(int=601), booked, AT)], state)
    return state


def lot(number: int, quantity: int, msme: UUID = MSME) -> ReceiveLot:
    return ReceiveLot(UUID(int=700 + number), msme, None, quantity, f"LOT-{number}", date(2027, 2, 20), "ana", AT)


def test_a_lot_covers_accepted_units_of_its_msme_only() -> None:
    state, (received,) = run([lot(1, 200)], accepted_pool())
    assert isinstance(received, LotReceived) and received.product_id == UUID(int=401)
    assert [(q.line_id.int, q.quantity) for q in received.lines] == [(201, 200)]
    with pytest.raises(Conflict) as over:
        run([lot(2, 301)], state)
    assert over.value.problem == "over-delivery"
    with pytest.raises(Conflict):
        run([lot(3, 1, UUID(int=999))], state)
    with pytest.raises(Conflict) as duplicate:
        run([ReceiveLot(UUID(int=799), MSME, None, 1, "LOT-1", date(2027, 2, 20), "ana", AT)], state)
    assert duplicate.value.problem == "duplicate-lot"
    with pytest.raises(InvalidInput):
        run([ReceiveLot(UUID(int=798), MSME, UUID(int=9), 1, "LOT-9", date(2027, 2, 20), "ana", AT)], state)


def test_passed_lots_fill_the_pool_once() -> None:
    state, _ = run([lot(1, 300), lot(2, 200)], accepted_pool())
    state, events = run([PassLot(UUID(int=701), None, AT)], state)
    assert [type(e) for e in events] == [LotPassed]
    state, events = run([PassLot(UUID(int=702), None, AT)], state)
    assert [type(e) for e in events] == [LotPassed, PoolFilled]
    assert state.status == "filled" and state.passed == 500
    assert run([PassLot(UUID(int=702), None, AT)], state)[1] == []


def test_a_returned_lot_reopens_its_units_and_sets_the_msme_aside() -> None:
    state, _ = run([lot(1, 300)], accepted_pool())
    state, (returned,) = run([ReturnLot(UUID(int=701), None, "major defects", AT)], state)
    assert isinstance(returned, LotReturned)
    assert (state.accepted, state.delivered, state.open) == (200, 0, 300)
    assert state.supplier(MSME).outstanding == 200 and state.set_aside[MSME].reason == "lot_rejected"
    assert [(p.accepted, p.delivered) for p in returned.progress] == [(200, 0)]


def test_the_consignment_ships_passed_lots_whole_or_partly_with_consent() -> None:
    state, _ = run([lot(1, 300), PassLot(UUID(int=701), None, AT)], accepted_pool())
    with pytest.raises(Conflict) as short:
        run([Ship(UUID(int=900), False, None, "ana", AT)], state)
    assert short.value.problem == "not-filled"
    with pytest.raises(InvalidInput):
        run([Ship(UUID(int=900), True, None, "ana", AT)], state)
    state, (shipped,) = run([Ship(UUID(int=900), True, "buyer agreed", "ana", AT)], state)
    assert isinstance(shipped, ConsignmentShipped) and (shipped.quantity, shipped.partial) == (300, True)
    with pytest.raises(Conflict) as nothing:
        run([Ship(UUID(int=901), True, "again", "ana", AT)], state)
    assert nothing.value.problem == "nothing-to-ship"
    state, _ = run([lot(2, 200), PassLot(UUID(int=702), None, AT), Ship(UUID(int=902), False, None, "ana", AT)], state)
    assert state.status == "shipped" and state.shipped == 500
    with pytest.raises(Conflict):
        run([lot(3, 1)], state)


def test_only_verdicts_of_the_pools_inspectors_count_when_it_names_them() -> None:
    state, _ = run([lot(1, 300)], replace(accepted_pool(), inspector_orgs=("sucofindo",)))
    stranger = PassLot(UUID(int=701), UUID(int=1), AT, inspector_org="some-other-lab")
    assert run([stranger], state)[1] == [], "a verdict by an inspector the pool did not name is ignored"
    assert run([ReturnLot(UUID(int=701), UUID(int=1), "bad", AT, inspector_org="some-other-lab")], state)[1] == []
    _, by_named = run([PassLot(UUID(int=701), UUID(int=2), AT, inspector_org="sucofindo")], state)
    assert isinstance(by_named[0], LotPassed)
    _, by_own = run([PassLot(UUID(int=701), UUID(int=3), AT, inspector_org=state.aggregator_org)], state)
    assert isinstance(by_own[0], LotPassed), "the aggregator's own quality staff always count"
    open_pool, _ = run([lot(1, 300)], accepted_pool())
    assert isinstance(run([stranger], open_pool)[1][0], LotPassed), "a pool naming no inspectors trusts any"
