"""A capacity ledger (one product's month): never committed beyond what the MSME declared."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import pytest

from events.pooling import CapacityCommitted, CapacityRecorded, CapacityReleased
from services.pooling.domain.capacity_ledger import (
    LEDGER,
    CommitCapacity,
    Ledger,
    LedgerCommand,
    RecordCapacity,
    ReleaseCapacity,
)
from shared.errors import Conflict

pytestmark = pytest.mark.unit

AT = datetime(2027, 1, 4, tzinfo=UTC)
PRODUCT, MSME, POOL = UUID(int=1), UUID(int=2), UUID(int=3)


def declare(units: int) -> RecordCapacity:
    return RecordCapacity(PRODUCT, MSME, "2027-02", units, AT)


def commit(units: int, request: int) -> CommitCapacity:
    return CommitCapacity(PRODUCT, MSME, "2027-02", units, UUID(int=100 + request), POOL)


def given(*commands: LedgerCommand) -> Ledger:
    state = LEDGER.initial_state
    for command in commands:
        state = LEDGER.fold(LEDGER.decide(command, state), state)
    return state


def test_commitments_fill_the_declared_capacity_and_no_further() -> None:
    state = given(declare(300), commit(200, 1))
    (committed,) = LEDGER.decide(commit(100, 2), state)
    assert isinstance(committed, CapacityCommitted) and committed.committed == 300
    with pytest.raises(Conflict) as refused:
        LEDGER.decide(commit(101, 2), state)
    assert refused.value.problem == "over-capacity" and refused.value.extensions["declared"] == 300


def test_without_a_declaration_nothing_can_be_committed() -> None:
    with pytest.raises(Conflict):
        LEDGER.decide(commit(1, 1), Ledger())


def test_lowering_below_what_is_committed_records_the_excess() -> None:
    (recorded,) = LEDGER.decide(declare(120), given(declare(300), commit(200, 1)))
    assert isinstance(recorded, CapacityRecorded) and (recorded.committed, recorded.overcommitted) == (200, 80)
    assert LEDGER.decide(declare(300), given(declare(300))) == []


def test_a_release_gives_back_no_more_than_the_request_booked() -> None:
    state = given(declare(300), commit(200, 1), commit(50, 2))
    (released,) = LEDGER.decide(ReleaseCapacity(500, UUID(int=101), "order cancelled"), state)
    assert isinstance(released, CapacityReleased) and (released.units, released.committed) == (200, 50)
    after = LEDGER.fold([released], state)
    assert after.available == 250 and after.units_of(UUID(int=101)) == 0
    assert LEDGER.decide(ReleaseCapacity(5, UUID(int=999), "unknown"), state) == []
