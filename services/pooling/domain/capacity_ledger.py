"""The capacity ledger decider: one product's month, declared by the MSME and committed by accepted requests.

Pure. The ledger never lets commitments exceed the declared capacity; when the MSME lowers its
declaration below what is committed, the ledger records the excess so it can be re-allocated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from uuid import UUID

from events.pooling import CapacityCommitted, CapacityRecorded, CapacityReleased, PoolingEvent
from shared.kernel.decider import Decider
from shared.kernel.errors import Conflict


def capacity_stream(product_id: UUID, month: str) -> str:
    return f"capacity:{product_id}:{month}"


@dataclass(frozen=True, slots=True)
class Commitment:
    request_id: UUID
    pool_id: UUID
    units: int


@dataclass(frozen=True)
class Ledger:
    product_id: UUID | None = None
    msme_id: UUID | None = None
    month: str = ""
    declared: int = 0
    commitments: tuple[Commitment, ...] = field(default=())  # in the order they were booked

    @property
    def committed(self) -> int:
        return sum(c.units for c in self.commitments)

    @property
    def available(self) -> int:
        return max(self.declared - self.committed, 0)

    @property
    def overcommitted(self) -> int:
        return max(self.committed - self.declared, 0)

    def units_of(self, request_id: UUID) -> int:
        return sum(c.units for c in self.commitments if c.request_id == request_id)


@dataclass(frozen=True)
class RecordCapacity:
    product_id: UUID
    msme_id: UUID
    month: str
    declared: int
    at: datetime


@dataclass(frozen=True)
class CommitCapacity:
    product_id: UUID
    msme_id: UUID
    month: str
    units: int
    request_id: UUID
    pool_id: UUID


@dataclass(frozen=True)
class ReleaseCapacity:
    units: int
    request_id: UUID
    reason: str


LedgerCommand = RecordCapacity | CommitCapacity | ReleaseCapacity


def decide(command: LedgerCommand, state: Ledger) -> Sequence[PoolingEvent]:
    match command:
        case RecordCapacity():
            if state.product_id is not None and state.declared == command.declared:
                return []
            committed = state.committed
            return [
                CapacityRecorded(
                    product_id=command.product_id,
                    msme_id=command.msme_id,
                    month=command.month,
                    declared=command.declared,
                    committed=committed,
                    overcommitted=max(committed - command.declared, 0),
                    at=command.at,
                )
            ]
        case CommitCapacity():
            if command.units > state.available:
                raise Conflict(
                    f"the MSME has {state.available} units of this product free in {command.month}, "
                    f"not {command.units}",
                    problem="over-capacity",
                    month=command.month,
                    declared=state.declared,
                    committed=state.committed,
                    asked=command.units,
                )
            return [
                CapacityCommitted(
                    product_id=command.product_id,
                    msme_id=command.msme_id,
                    month=command.month,
                    units=command.units,
                    committed=state.committed + command.units,
                    request_id=command.request_id,
                    pool_id=command.pool_id,
                )
            ]
        case ReleaseCapacity():
            units = min(command.units, state.units_of(command.request_id))
            if units <= 0 or state.product_id is None or state.msme_id is None:
                return []
            pool_id = next(c.pool_id for c in state.commitments if c.request_id == command.request_id)
            return [
                CapacityReleased(
                    product_id=state.product_id,
                    msme_id=state.msme_id,
                    month=state.month,
                    units=units,
                    committed=state.committed - units,
                    request_id=command.request_id,
                    pool_id=pool_id,
                    reason=command.reason,
                )
            ]


def _take_back(commitments: tuple[Commitment, ...], request_id: UUID, units: int) -> tuple[Commitment, ...]:
    """Remove units of one request's commitments, the latest first."""
    result = list(commitments)
    remaining = units
    for index in range(len(result) - 1, -1, -1):
        entry = result[index]
        if entry.request_id != request_id or remaining <= 0:
            continue
        take = min(entry.units, remaining)
        remaining -= take
        result[index] = replace(entry, units=entry.units - take)
    return tuple(c for c in result if c.units > 0)


def evolve(state: Ledger, event: PoolingEvent) -> Ledger:
    match event:
        case CapacityRecorded():
            return replace(
                state, product_id=event.product_id, msme_id=event.msme_id, month=event.month, declared=event.declared
            )
        case CapacityCommitted():
            entry = Commitment(event.request_id, event.pool_id, event.units)
            return replace(
                state,
                product_id=event.product_id,
                msme_id=event.msme_id,
                month=event.month,
                commitments=(*state.commitments, entry),
            )
        case CapacityReleased():
            return replace(state, commitments=_take_back(state.commitments, event.request_id, event.units))
        case _:
            return state


LEDGER = Decider[LedgerCommand, Ledger, PoolingEvent]("capacity", Ledger(), decide, evolve)
