"""Pooling's own read models, kept from its event store: pools, allocation requests, proposals, capacity and
unmatched demand. Pools and requests are also read from their streams where an answer must be exact."""

from __future__ import annotations

from uuid import UUID

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from events.base import Event
from events.pooling import (
    AllocationAccepted,
    AllocationDeclined,
    AllocationExpired,
    AllocationProposed,
    AllocationReleased,
    AllocationRequested,
    AllocationWithdrawn,
    CapacityCommitted,
    CapacityRecorded,
    CapacityReleased,
    ConsignmentShipped,
    DemandAdded,
    DemandCancelled,
    DemandPooled,
    DemandRemoved,
    DemandUnmatched,
    LotPassed,
    LotReturned,
    PoolFilled,
    PoolOpened,
    ProposalApproved,
    SupplyBooked,
    SupplyReleased,
)
from services.pooling.read.tables import OWN
from shared.eventstore import Connection, RecordedEvent
from shared.mirrors import Upserts
from shared.projection import Decoded, Projection, Tables
from shared.sql import execute

_json = msgspec.json.Encoder()


def encode(value: object) -> str:
    return _json.encode(value).decode()


async def _pool_change(connection: Connection, table: sa.Table, record: RecordedEvent, **values: object) -> None:
    pool_id = UUID(record.stream_id.removeprefix("pool-"))
    await execute(
        connection,
        table.update().where(table.c.pool_id == pool_id).values(version=record.stream_version, **values),
    )


async def project_pool(connection: Connection, tables: Tables, event: Event, record: RecordedEvent) -> None:
    if record.stream_type != "pool":
        return
    table = tables["pools"]
    c = table.c
    match event:
        case PoolOpened():
            row = {
                "pool_id": event.pool_id,
                "aggregator_org": event.aggregator_org,
                "name": event.name,
                "hs_code": event.hs_code,
                "standard_id": event.standard_id,
                "standard_version": event.standard_version,
                "unit": event.unit,
                "currency": event.currency,
                "consolidation_point": event.consolidation_point,
                "required_by": event.required_by,
                "status": "open",
                "demand": 0,
                "accepted": 0,
                "passed": 0,
                "shipped": 0,
                "opened_at": event.at,
                "version": record.stream_version,
            }
            await execute(connection, insert(table).values(**row).on_conflict_do_nothing())
        case DemandAdded():
            await _pool_change(connection, table, record, demand=c.demand + event.quantity, status="open")
        case DemandRemoved():
            await _pool_change(connection, table, record, demand=c.demand - event.quantity)
        case SupplyBooked():
            await _pool_change(connection, table, record, accepted=c.accepted + event.quantity)
        case SupplyReleased():
            await _pool_change(connection, table, record, accepted=c.accepted - event.quantity)
        case LotReturned():
            await _pool_change(connection, table, record, accepted=c.accepted - event.quantity)
        case LotPassed():
            await _pool_change(connection, table, record, passed=c.passed + event.quantity)
        case PoolFilled():
            await _pool_change(connection, table, record, status="filled")
        case ConsignmentShipped():
            shipped = c.shipped + event.quantity
            status = sa.case((shipped >= c.demand, "shipped"), else_=c.status)
            await _pool_change(connection, table, record, shipped=shipped, status=status)
        case _:
            await _pool_change(connection, table, record)


async def project_request(connection: Connection, tables: Tables, event: Event, record: RecordedEvent) -> None:
    table = tables["allocation_requests"]
    c = table.c
    answered: dict[str, object] = {"version": record.stream_version}
    match event:
        case AllocationRequested():
            row = {
                "request_id": event.request_id,
                "pool_id": event.pool_id,
                "aggregator_org": event.aggregator_org,
                "proposal_id": event.proposal_id,
                "msme_id": event.msme_id,
                "product_id": event.product_id,
                "hs_code": event.hs_code,
                "unit": event.unit,
                "quantity": event.quantity,
                "accepted": 0,
                "plan": encode(event.plan),
                "accepted_plan": "[]",
                "unit_price": encode(event.unit_price),
                "status": "pending",
                "reason": event.reason,
                "expires_at": event.expires_at,
                "requested_at": event.at,
                "version": record.stream_version,
            }
            await execute(connection, insert(table).values(**row).on_conflict_do_nothing())
            return
        case AllocationAccepted():
            answered |= {"status": "accepted", "accepted": event.quantity, "accepted_plan": encode(event.plan)}
            answered |= {"answered_at": event.at}
        case AllocationDeclined():
            answered |= {"status": "declined", "answer": event.reason, "answered_at": event.at}
        case AllocationExpired():
            answered |= {"status": "expired", "answered_at": event.at}
        case AllocationWithdrawn():
            answered |= {"status": "withdrawn", "answer": event.reason, "answered_at": event.at}
        case AllocationReleased():
            answered |= {
                "accepted": c.accepted - event.quantity,
                "answer": f"released {event.quantity}: {event.reason}",
            }
        case _:
            return
    await execute(
        connection,
        table.update()
        .where(c.request_id == UUID(record.stream_id.removeprefix("allocation-request-")))
        .values(**answered),
    )


async def project_proposal(connection: Connection, tables: Tables, event: Event, record: RecordedEvent) -> None:
    table = tables["proposals"]
    match event:
        case AllocationProposed():
            row = {
                "proposal_id": event.proposal_id,
                "pool_id": event.pool_id,
                "aggregator_org": event.aggregator_org,
                "status": "proposed",
                "body": encode(event),
                "request_ids": "[]",
                "proposed_at": event.at,
            }
            await execute(connection, insert(table).values(**row).on_conflict_do_nothing())
        case ProposalApproved():
            values = {"status": "approved", "request_ids": encode(event.request_ids)}
            await execute(connection, table.update().where(table.c.proposal_id == event.proposal_id).values(**values))


LedgerEvent = CapacityRecorded | CapacityCommitted | CapacityReleased
"""What a capacity ledger records: each event's row is its product's month in ``capacity``."""


def gather_capacity(rows: Upserts, table: sa.Table, event: LedgerEvent) -> None:
    """A ledger event's row of ``capacity``: a declaration sets what is declared and committed, a commitment or
    release only what is committed (a month no declaration made yet starts at 0 declared)."""
    month = {"product_id": event.product_id, "month": event.month}
    if isinstance(event, CapacityRecorded):
        row, new = month | {"declared": event.declared, "committed": event.committed}, {}
    else:
        row, new = month | {"committed": event.committed}, {"declared": 0}
    rows.upsert(table, ["product_id", "month"], row, new=new | {"msme_id": event.msme_id})


async def project_capacity(connection: Connection, tables: Tables, event: Event, record: RecordedEvent) -> None:
    if isinstance(event, LedgerEvent):
        rows = Upserts()
        gather_capacity(rows, tables["capacity"], event)
        await rows.write(connection)


async def project_unmatched(connection: Connection, tables: Tables, event: Event, record: RecordedEvent) -> None:
    table = tables["unmatched_demand"]
    match event:
        case DemandUnmatched():
            row = {
                "line_id": event.line_id,
                "order_id": event.order_id,
                "aggregator_org": event.aggregator_org,
                "buyer_org": event.buyer_org,
                "hs_code": event.hs_code,
                "standard_id": event.standard_id,
                "standard_version": event.standard_version,
                "unit": event.unit,
                "quantity": event.quantity,
                "required_by": event.required_by,
                "reason": event.reason,
                "recorded_at": event.at,
            }
            await execute(connection, insert(table).values(**row).on_conflict_do_nothing())
        case DemandPooled():
            await execute(connection, table.delete().where(table.c.line_id == event.line_id))
        case DemandCancelled():
            await execute(connection, table.delete().where(table.c.line_id.in_(event.line_ids)))


async def project(connection: Connection, tables: Tables, event: Event, record: RecordedEvent) -> None:
    """One projection over pooling's events; each part touches only its own table."""
    await project_pool(connection, tables, event, record)
    await project_request(connection, tables, event, record)
    await project_proposal(connection, tables, event, record)
    await project_capacity(connection, tables, event, record)
    await project_unmatched(connection, tables, event, record)


async def project_many(connection: Connection, tables: Tables, events: Decoded) -> None:
    """A batch at once: the ledgers' events (most of pooling's, one per capacity declared in catalog) in a statement
    or two; the rest in turn. Only ledger events touch ``capacity``, and they touch nothing else, so
    writing their rows after the others leaves the tables as applying every event in turn does."""
    capacity = Upserts()
    for event, record in events:
        if isinstance(event, LedgerEvent):
            gather_capacity(capacity, tables["capacity"], event)
        else:
            await project(connection, tables, event, record)
    await capacity.write(connection)


POOLING_VIEWS = Projection("pooling", OWN, project, project_many)
