"""A capacity ledger (one product's month): never committed beyond what the MSME declared."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import pytest

from events.pooling import CapacityCommitted, CapacityRecorded, CapacityReleased
from services.pooling.domain.capacity_ledger import (
    LEDGER,
    CommitCapacity,
    RecordCapacity,
    ReleaseCapacity,
)
from shared.kernel.errors import Conflict
from tests.support.given import history, then, then_raises

pytestmark = pytest.mark.unit

AT = datetime(2027, 1, 4, tzinfo=UTC)
PRODUCT, MSME, POOL = UUID(int=1), UUID(int=2), UUID(int=3)


def declare(units: int) -> RecordCapacity:
    return RecordCapacity(PRODUCT, MSME, "2027-02", units, AT)


def commit(units: int, request: int) -> CommitCapacity:
    return CommitCapacity(PRODUCT, MSME, "2027-02", units, UUID(int=100 + request), POOL)


def test_commitments_fill_the_declared_capacity_and_no_further() -> None:
    given = history(LEDGER, declare(300), commit(200, 1))
    (committed,) = then(LEDGER, given, commit(100, 2))
    assert isinstance(committed, CapacityCommitted) and committed.committed == 300
    refused = then_raises(LEDGER, given, commit(101, 2), Conflict)
    assert refused.problem == "over-capacity" and refused.extensions["declared"] == 300


def test_without_a_declaration_nothing_can_be_committed() -> None:
    then_raises(LEDGER, [], commit(1, 1), Conflict)


def test_lowering_below_what_is_committed_records_the_excess() -> None:
    (recorded,) = then(LEDGER, history(LEDGER, declare(300), commit(200, 1)), declare(120))
    assert isinstance(recorded, CapacityRecorded) and (recorded.committed, recorded.overcommitted) == (200, 80)
    assert then(LEDGER, history(LEDGER, declare(300)), declare(300)) == []


def test_a_release_gives_back_no_more_than_the_request_booked() -> None:
    given = history(LEDGER, declare(300), commit(200, 1), commit(50, 2))
    (released,) = then(LEDGER, given, ReleaseCapacity(500, UUID(int=101), "order cancelled"))
    assert isinstance(released, CapacityReleased) and (released.units, released.committed) == (200, 50)
    after = LEDGER.fold([*given, released])
    assert after.available == 250 and after.units_of(UUID(int=101)) == 0
    assert then(LEDGER, given, ReleaseCapacity(5, UUID(int=999), "unknown")) == []
