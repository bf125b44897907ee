"""Commands that shape a pool's demand and supply: proposals sent as requests, order lines joining and
leaving, and capacity declarations that leave bookings uncovered."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from uuid import UUID

from events.pooling import AllocationPolicy, DemandPooled, SupplyRequested
from services.pooling.domain.allocation_request import REQUEST, RequestAllocation, request_stream
from services.pooling.domain.capacity_ledger import LEDGER, Ledger, RecordCapacity, capacity_stream
from services.pooling.domain.order_demand import (
    ORDER_DEMAND,
    CancelDemand,
    PoolLine,
    RecordUnmatched,
    order_demand_stream,
)
from services.pooling.domain.pool import POOL, pool_stream
from services.pooling.domain.pool_commands import AddDemand, Approve, ProposalDraft, Propose, RemoveDemand
from services.pooling.domain.pool_state import Pool
from services.pooling.use_cases.allocation_requests import EXPIRE, SCHEMA, release, withdraw
from shared.decider import CommandOutcome, UnitOfWork, fold_stream, run_command
from shared.eventstore import Connection, EventStore, Metadata
from shared.kernel.ids import new_id
from shared.schedule import schedule


@dataclass(frozen=True)
class Sent:
    """A stored proposal and the requests it sent (none unless sent)."""

    proposal_id: UUID
    request_ids: tuple[UUID, ...]
    pool: Pool


async def send_proposal(
    unit: UnitOfWork, pool_id: UUID, proposal_id: UUID, expires_at: datetime, by: str, at: datetime
) -> tuple[Pool, tuple[UUID, ...]]:
    """Approve a stored proposal in ``unit``: one request per allocation, each with its expiry scheduled."""
    state = await unit.load(POOL, pool_stream(pool_id))
    proposal = state.proposals.get(proposal_id)
    count = len(proposal.allocations) if proposal else 0
    ids = tuple(new_id() for _ in range(count))
    after, events = await unit.execute(POOL, pool_stream(pool_id), Approve(proposal_id, ids, expires_at, by, at))
    assert proposal is not None and state.standard_id is not None
    requested = [e for e in events if isinstance(e, SupplyRequested)]
    for event, allocation in zip(requested, proposal.allocations, strict=True):
        command = RequestAllocation(
            request_id=event.request_id,
            pool_id=pool_id,
            aggregator_org=state.aggregator_org,
            proposal_id=proposal_id,
            msme_id=allocation.msme_id,
            product_id=allocation.product_id,
            hs_code=state.hs_code,
            standard_id=state.standard_id,
            standard_version=state.standard_version,
            unit=state.unit,
            plan=tuple(allocation.plan),
            unit_price=allocation.unit_price,
            lines=tuple(event.lines),
            expires_at=expires_at,
            reason=allocation.reason,
            at=at,
        )
        await unit.execute(REQUEST, request_stream(event.request_id), command)
        await schedule(unit.connection, EXPIRE, str(event.request_id), expires_at, schema=SCHEMA)
    return after, ids


async def propose(
    store: EventStore,
    pool_id: UUID,
    *,
    open_quantity: int,
    draft: ProposalDraft,
    policy: AllocationPolicy,
    trigger: str,
    send: bool,
    by: str,
    at: datetime,
    metadata: Metadata,
    connection: Connection | None = None,
) -> CommandOutcome[Sent]:
    """Store the engine's proposal; with ``send``, approve it at once."""
    proposal_id = new_id()

    async def work(unit: UnitOfWork) -> Sent:
        command = Propose(proposal_id, open_quantity, draft, policy, trigger, by, at)
        state, _ = await unit.execute(POOL, pool_stream(pool_id), command)
        if not send or not draft.allocations:
            return Sent(proposal_id, (), state)
        expires_at = at + timedelta(seconds=policy.expires_in_s)
        state, ids = await send_proposal(unit, pool_id, proposal_id, expires_at, by, at)
        return Sent(proposal_id, ids, state)

    return await run_command(store, work, metadata=metadata, connection=connection, lock_streams=[pool_stream(pool_id)])


@dataclass(frozen=True)
class ConfirmedLine:
    """A confirmed order line as pooling knows it."""

    order_id: UUID
    line_id: UUID
    aggregator_org: str
    buyer_org: str
    hs_code: str
    standard_id: UUID
    standard_version: int
    unit: str
    quantity: int
    required_by: date
    confirmed_at: datetime


async def add_demand(
    unit: UnitOfWork, pool_id: UUID, line: ConfirmedLine, *, by: str, at: datetime
) -> tuple[Pool, bool]:
    """Put an order line into a pool (a line joins one pool only); True when it joined now."""
    _, pooled = await unit.execute(
        ORDER_DEMAND, order_demand_stream(line.order_id), PoolLine(line.order_id, line.line_id, pool_id, at)
    )
    command = AddDemand(
        order_id=line.order_id,
        line_id=line.line_id,
        buyer_org=line.buyer_org,
        aggregator_org=line.aggregator_org,
        hs_code=line.hs_code,
        standard_id=line.standard_id,
        standard_version=line.standard_version,
        unit=line.unit,
        quantity=line.quantity,
        required_by=line.required_by,
        confirmed_at=line.confirmed_at,
        by=by,
        at=at,
    )
    state, added = await unit.execute(POOL, pool_stream(pool_id), command)
    return state, bool(added) and any(isinstance(e, DemandPooled) for e in pooled)


async def record_unmatched(unit: UnitOfWork, line: ConfirmedLine, reason: str, at: datetime) -> None:
    command = RecordUnmatched(
        order_id=line.order_id,
        line_id=line.line_id,
        aggregator_org=line.aggregator_org,
        buyer_org=line.buyer_org,
        hs_code=line.hs_code,
        standard_id=line.standard_id,
        standard_version=line.standard_version,
        unit=line.unit,
        quantity=line.quantity,
        required_by=line.required_by,
        confirmed_at=line.confirmed_at,
        reason=reason,
        at=at,
    )
    await unit.execute(ORDER_DEMAND, order_demand_stream(line.order_id), command)


async def cancel_order(
    store: EventStore,
    order_id: UUID,
    line_ids: Sequence[UUID],
    reason: str,
    *,
    at: datetime,
    metadata: Metadata,
    connection: Connection,
) -> list[UUID]:
    """Take a cancelled order's lines out of their pools, then trim each pool to its remaining demand."""

    async def work(unit: UnitOfWork) -> list[UUID]:
        demand = await unit.load(ORDER_DEMAND, order_demand_stream(order_id))
        await unit.execute(
            ORDER_DEMAND, order_demand_stream(order_id), CancelDemand(order_id, tuple(line_ids), reason, at)
        )
        pools: list[UUID] = []
        for line_id, pool_id in sorted(demand.pooled.items()):
            await unit.execute(POOL, pool_stream(pool_id), RemoveDemand(order_id, line_id, reason, at))
            if pool_id not in pools:
                pools.append(pool_id)
        return pools

    outcome = await run_command(store, work, metadata=metadata, connection=connection)
    for pool_id in outcome.value:
        await trim(store, pool_id, reason, at=at, metadata=metadata, connection=connection)
    return outcome.value


async def trim(
    store: EventStore, pool_id: UUID, reason: str, *, at: datetime, metadata: Metadata, connection: Connection
) -> None:
    """Withdraw pending requests, then release the latest bookings, until the pool asks no more than its demand."""
    state, _ = await fold_stream(store, POOL, pool_stream(pool_id), connection=connection)
    excess = state.requested + state.accepted - state.demand
    for request_id in reversed(list(state.pending)):
        if excess <= 0:
            return
        await withdraw(
            store, request_id, f"no longer needed: {reason}", at=at, metadata=metadata, connection=connection
        )
        excess -= state.pending[request_id].quantity
    for request_id in reversed(list(state.bookings)):
        if excess <= 0:
            return
        given = await release(
            store,
            request_id,
            excess,
            None,
            f"demand left the pool: {reason}",
            at=at,
            metadata=metadata,
            connection=connection,
        )
        excess -= given.value


@dataclass(frozen=True)
class Declaration:
    """An MSME's capacity for a product in a month, as catalog told it, with the metadata of catalog's event."""

    product_id: UUID
    msme_id: UUID
    month: str
    units: int
    at: datetime
    metadata: Metadata


async def record_capacity(store: EventStore, declarations: Sequence[Declaration], *, connection: Connection) -> None:
    """Enter declarations in their ledgers, all in one unit of work (each event keeps its declaration's metadata);
    then, in each ledger left declaring less than it has committed, bookings are released (latest first) for
    re-allocation. A ledger declared twice in the batch is judged by its last declaration."""
    if not declarations:
        return
    streams = {capacity_stream(d.product_id, d.month): d for d in declarations}

    async def work(unit: UnitOfWork) -> dict[str, Ledger]:
        await unit.read_ahead(LEDGER, streams)
        ledgers: dict[str, Ledger] = {}
        for d in declarations:
            stream = capacity_stream(d.product_id, d.month)
            command = RecordCapacity(d.product_id, d.msme_id, d.month, d.units, d.at)
            ledgers[stream], _ = await unit.execute(LEDGER, stream, command, metadata=d.metadata)
        return ledgers

    first = declarations[0].metadata  # each event has its own; run_command wants one
    outcome = await run_command(store, work, metadata=first, connection=connection, lock_streams=list(streams))
    for stream, ledger in outcome.value.items():
        excess, last = ledger.overcommitted, streams[stream]
        for commitment in reversed(ledger.commitments):
            if excess <= 0:
                break
            given = await release(
                store, commitment.request_id, min(excess, commitment.units), last.month, "capacity_lowered",
                at=last.at, metadata=last.metadata, connection=connection,
            )  # fmt: skip
            excess -= given.value
