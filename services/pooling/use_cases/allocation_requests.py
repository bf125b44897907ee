"""Commands on allocation requests that span streams: accept, decline, expire, withdraw, release.

Each runs in one transaction over the request, its pool and the capacity ledgers it touches, holding an
advisory lock on each of those streams; the expected versions remain the guard. A pool's answers queue on its
lock, so each command first locks and reads what is the request's alone (the request and its ledgers), and only
then locks the pool, last: the pool is held just for reading its latest events, deciding and committing. Every
other stream sorts before the pool's ("allocation-request-…" < "capacity:…" < "pool-…"), so these locks are
still taken in the one sorted order every command follows, and none can deadlock another.
A shortfall (decline, expiry, partial accept, release) schedules a re-allocation of the pool in the same
transaction, so it is never lost.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import TypeVar
from uuid import UUID

from events.pooling import AllocationReleased, PoolingEvent, SupplyBooked, SupplyReleased
from services.pooling.domain.allocation_request import (
    REQUEST,
    AcceptAllocation,
    AllocationRequest,
    DeclineAllocation,
    ExpireAllocation,
    ReleaseAllocation,
    WithdrawAllocation,
    check_answerable,
    request_stream,
)
from services.pooling.domain.capacity_ledger import LEDGER, CommitCapacity, ReleaseCapacity, capacity_stream
from services.pooling.domain.pool import POOL, pool_stream
from services.pooling.domain.pool_commands import Book, Lapse, Release
from services.pooling.domain.request_plan import earliest, split_release, taken
from shared.decider import CommandOutcome, UnitOfWork, fold_stream, run_command
from shared.eventstore import Connection, EventStore, Metadata
from shared.kernel.errors import NotFound
from shared.schedule import schedule

SCHEMA = "pooling"
REALLOCATE = "reallocate"
"""Due-action kind: re-run the engine on a pool's open remainder; the subject is the pool id."""
EXPIRE = "allocation-expiry"
"""Due-action kind: expire an unanswered request; the subject is the request id."""
AS_SOON_AS_POSSIBLE = datetime(2000, 1, 1, tzinfo=UTC)
E = TypeVar("E", bound=PoolingEvent)


async def reallocate_later(connection: Connection, pool_id: UUID, cause: str) -> None:
    """Schedule a re-allocation of the pool (several shortfalls before it runs coalesce into one)."""
    await schedule(connection, REALLOCATE, str(pool_id), AS_SOON_AS_POSSIBLE, {"cause": cause}, schema=SCHEMA)


async def load_request(store: EventStore, request_id: UUID, connection: Connection | None = None) -> AllocationRequest:
    state, _ = await fold_stream(store, REQUEST, request_stream(request_id), connection=connection)
    if state.request_id is None:
        raise NotFound(f"no allocation request {request_id}")
    return state


def _only(events: Sequence[PoolingEvent], kind: type[E]) -> E:
    (event,) = [e for e in events if isinstance(e, kind)]
    return event


def _ids(request: AllocationRequest) -> tuple[UUID, UUID, UUID]:
    assert request.pool_id and request.msme_id and request.product_id
    return request.pool_id, request.msme_id, request.product_id


async def _load(
    unit: UnitOfWork, store: EventStore, request_id: UUID, answering_for: Collection[UUID] | None, *, ledgers: bool
) -> AllocationRequest:
    """The request, read once in ``unit``, then locked with (if ``ledgers``) each month's ledger of its plan, and
    those ledgers read; 404 for an unknown request or one to an MSME the caller does not answer for."""
    request = await unit.load(REQUEST, request_stream(request_id))
    if request.request_id is None or (answering_for is not None and request.msme_id not in answering_for):
        raise NotFound(f"no allocation request {request_id}")
    product_id = _ids(request)[2]
    months = [capacity_stream(product_id, m.month) for m in request.plan] if ledgers else []
    await store.lock_streams([request_stream(request_id), *months], connection=unit.connection)
    await unit.read_ahead(LEDGER, months)
    return request


async def _hold_pool(unit: UnitOfWork, store: EventStore, request: AllocationRequest) -> UUID:
    """Lock the request's pool, last of the command's streams, and read it; its id."""
    pool_id = _ids(request)[0]
    await store.lock_streams([pool_stream(pool_id)], connection=unit.connection)
    await unit.load(POOL, pool_stream(pool_id))
    return pool_id


async def accept(
    store: EventStore,
    request_id: UUID,
    quantity: int | None,
    *,
    answering_for: Collection[UUID] | None = None,
    by: str,
    at: datetime,
    metadata: Metadata,
    connection: Connection | None = None,
) -> CommandOutcome[AllocationRequest]:
    """Book the accepted units into the pool and each month's capacity ledger, or refuse with a 409.

    ``answering_for`` names the MSMEs the caller answers for (None: any); another MSME's request is not found.
    The request's stream is read once, in the unit of work, before the streams the booking writes are locked.
    """

    async def work(unit: UnitOfWork) -> AllocationRequest:
        request = await _load(unit, store, request_id, answering_for, ledgers=True)
        _, msme_id, product_id = _ids(request)
        check_answerable(request, at)
        take = taken(quantity, request.quantity)
        pool_id = await _hold_pool(unit, store, request)
        _, booked = await unit.execute(POOL, pool_stream(pool_id), Book(request_id, take, at))
        lines = tuple(_only(booked, SupplyBooked).lines)
        after, _ = await unit.execute(REQUEST, request_stream(request_id), AcceptAllocation(take, lines, by, at))
        for month in earliest(request.plan, take):
            commit = CommitCapacity(product_id, msme_id, month.month, month.quantity, request_id, pool_id)
            await unit.execute(LEDGER, capacity_stream(product_id, month.month), commit)
        if take < request.quantity:
            cause = f"MSME {msme_id} accepted {take} of {request.quantity}"
            await reallocate_later(unit.connection, pool_id, cause)
        return after

    return await run_command(store, work, metadata=metadata, connection=connection)


async def decline(
    store: EventStore,
    request_id: UUID,
    reason: str,
    *,
    by: str,
    at: datetime,
    metadata: Metadata,
    answering_for: Collection[UUID] | None = None,
    connection: Connection | None = None,
) -> CommandOutcome[AllocationRequest]:
    """Decline with a reason: the pool lets the request lapse and re-allocates its units."""

    async def work(unit: UnitOfWork) -> AllocationRequest:
        request = await _load(unit, store, request_id, answering_for, ledgers=False)
        _, msme_id, _ = _ids(request)
        check_answerable(request, at)
        pool_id = await _hold_pool(unit, store, request)
        after, _ = await unit.execute(REQUEST, request_stream(request_id), DeclineAllocation(reason, by, at))
        await unit.execute(POOL, pool_stream(pool_id), Lapse(request_id, "declined", reason, at))
        await reallocate_later(unit.connection, pool_id, f"MSME {msme_id} declined {request.quantity}: {reason}")
        return after

    return await run_command(store, work, metadata=metadata, connection=connection)


async def expire(
    store: EventStore, request_id: UUID, *, at: datetime, metadata: Metadata, connection: Connection | None = None
) -> CommandOutcome[AllocationRequest]:
    """Expire a request that is still unanswered at ``at``; anything else is left as it is."""

    async def work(unit: UnitOfWork) -> AllocationRequest:
        known = await _load(unit, store, request_id, None, ledgers=False)
        _, msme_id, _ = _ids(known)
        after, expired = await unit.execute(REQUEST, request_stream(request_id), ExpireAllocation(at))
        if expired:
            pool_id = await _hold_pool(unit, store, known)
            reason = f"no answer by {known.expires_at.isoformat() if known.expires_at else 'the deadline'}"
            await unit.execute(POOL, pool_stream(pool_id), Lapse(request_id, "expired", reason, at))
            await reallocate_later(
                unit.connection, pool_id, f"MSME {msme_id} let a request for {after.quantity} expire"
            )
        return after

    return await run_command(store, work, metadata=metadata, connection=connection)


async def withdraw(
    store: EventStore,
    request_id: UUID,
    reason: str,
    *,
    at: datetime,
    metadata: Metadata,
    connection: Connection | None = None,
) -> CommandOutcome[AllocationRequest]:
    """Withdraw a pending request (its pool no longer needs it); anything else is left as it is."""

    async def work(unit: UnitOfWork) -> AllocationRequest:
        known = await _load(unit, store, request_id, None, ledgers=False)
        after, withdrawn = await unit.execute(REQUEST, request_stream(request_id), WithdrawAllocation(reason, at))
        if withdrawn:
            pool_id = await _hold_pool(unit, store, known)
            await unit.execute(POOL, pool_stream(pool_id), Lapse(request_id, "withdrawn", reason, at))
        return after

    return await run_command(store, work, metadata=metadata, connection=connection)


async def release(
    store: EventStore,
    request_id: UUID,
    quantity: int,
    month: str | None,
    reason: str,
    *,
    at: datetime,
    metadata: Metadata,
    connection: Connection | None = None,
) -> CommandOutcome[int]:
    """Give back up to ``quantity`` undelivered accepted units (of ``month`` only, if named); returns how many."""

    async def work(unit: UnitOfWork) -> int:
        request = await _load(unit, store, request_id, None, ledgers=True)
        _, msme_id, product_id = _ids(request)
        wanted, _ = split_release(request.accepted_plan, quantity, month)
        asked = sum(m.quantity for m in wanted)
        if not asked:
            return 0
        pool_id = await _hold_pool(unit, store, request)
        _, released = await unit.execute(POOL, pool_stream(pool_id), Release(request_id, asked, reason, at))
        if not released:
            return 0
        supply = _only(released, SupplyReleased)
        given = supply.quantity
        _, events = await unit.execute(
            REQUEST, request_stream(request_id), ReleaseAllocation(given, month, reason, tuple(supply.lines), at)
        )
        for entry in _only(events, AllocationReleased).released_plan:
            await unit.execute(
                LEDGER, capacity_stream(product_id, entry.month), ReleaseCapacity(entry.quantity, request_id, reason)
            )
        await reallocate_later(unit.connection, pool_id, f"MSME {msme_id} gave back {given}: {reason}")
        return int(given)

    return await run_command(store, work, metadata=metadata, connection=connection)
