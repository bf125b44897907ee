"""Per-line progress from pooling's pool events, inside the handler's transaction.

A pool's events carry ``progress``: each affected line's totals after the change (accepted, delivered,
passed, shipped), so orders copies totals and never adds deltas. Units asked of MSMEs in requests not yet
answered are kept per request, so ``allocated`` = accepted + still asked.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from events.base import Event
from events.pooling import (
    ConsignmentShipped,
    DemandAdded,
    DemandRemoved,
    LineProgress,
    LotPassed,
    LotReceived,
    LotReturned,
    PoolFilled,
    SupplyBooked,
    SupplyLapsed,
    SupplyReleased,
    SupplyRequested,
)
from services.orders.read.tables import line_requests, order_lines_progress
from shared.eventstore import Connection
from shared.sql import execute, fetch

WithProgress = (
    DemandAdded
    | DemandRemoved
    | SupplyBooked
    | SupplyReleased
    | LotReceived
    | LotPassed
    | LotReturned
    | PoolFilled
    | ConsignmentShipped
)
LineKey = tuple[UUID, UUID]
"""(order id, line id)"""


_COVERED = ("accepted", "passed", "shipped")
"""The measures an order's milestones follow, each with the time it reached the line's demand."""


async def _copy_totals(connection: Connection, line: LineProgress, at: datetime) -> None:
    table = order_lines_progress
    totals = {
        "accepted": line.accepted,
        "delivered": line.delivered,
        "passed": line.passed,
        "shipped": line.shipped,
        "updated_at": at,
    }
    reached = {m: 0 < line.demand <= getattr(line, m) for m in _COVERED}
    since = {f"{m}_since": at if reached[m] else None for m in _COVERED}
    # A measure that already covered the demand keeps the time it first did; one below it has no time.
    kept = {f"{m}_since": sa.func.coalesce(table.c[f"{m}_since"], at) if reached[m] else None for m in _COVERED}
    statement = insert(table).values(order_id=line.order_id, line_id=line.line_id, **totals, **since)
    await execute(
        connection,
        statement.on_conflict_do_update(index_elements=["order_id", "line_id"], set_={**totals, **kept}),
    )


async def _zero(connection: Connection, order_id: UUID, line_id: UUID, at: datetime) -> None:
    """A line that left its pool (its order was cancelled) has nothing allocated or made for it any more."""
    table = order_lines_progress
    await execute(connection, line_requests.delete().where(line_requests.c.line_id == line_id))
    await execute(
        connection,
        table.update()
        .where(table.c.order_id == order_id, table.c.line_id == line_id)
        .values(allocated=0, accepted=0, delivered=0, passed=0, shipped=0, updated_at=at)
        .values(accepted_since=None, passed_since=None, shipped_since=None),
    )


async def _end_request(connection: Connection, request_id: UUID) -> set[LineKey]:
    rows = await fetch(
        connection,
        line_requests.delete()
        .where(line_requests.c.request_id == request_id)
        .returning(line_requests.c.order_id, line_requests.c.line_id),
    )
    return {(row["order_id"], row["line_id"]) for row in rows}


class Recount:
    """Lines whose allocated units are to be counted again, each with the time of the last event that touched it:
    counted once for a batch of events (or before a milestone reads them), in one statement."""

    def __init__(self) -> None:
        self.lines: dict[LineKey, datetime] = {}

    def add(self, keys: set[LineKey], at: datetime) -> None:
        self.lines.update(dict.fromkeys(keys, at))

    async def write(self, connection: Connection) -> None:
        """Each line's allocated units: accepted, and still asked in requests not yet answered (the row inserted,
        or found, takes what is still asked)."""
        if not self.lines:
            return
        keys = sorted(self.lines)
        await connection.execute(
            f"""INSERT INTO {order_lines_progress.fullname} AS p (order_id, line_id, allocated, updated_at)
                SELECT k.order_id, k.line_id,
                       (SELECT coalesce(sum(r.quantity), 0) FROM {line_requests.fullname} r
                         WHERE r.order_id = k.order_id AND r.line_id = k.line_id),
                       k.at
                FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[]) AS k(order_id, line_id, at)
                ON CONFLICT (order_id, line_id)
                DO UPDATE SET allocated = p.accepted + excluded.allocated, updated_at = excluded.updated_at""",
            [order_id for order_id, _ in keys],
            [line_id for _, line_id in keys],
            [self.lines[key] for key in keys],
        )
        self.lines.clear()


async def apply_pool_event(connection: Connection, event: Event, at: datetime, recount: Recount) -> set[UUID]:
    """Bring the lines a pool event affects up to date, but for their allocated units, which it leaves to
    ``recount``; returns the orders whose progress it changed."""
    keys: set[LineKey] = set()
    match event:
        case SupplyRequested():
            for line in event.lines:
                await execute(
                    connection,
                    insert(line_requests)
                    .values(
                        request_id=event.request_id,
                        line_id=line.line_id,
                        order_id=line.order_id,
                        quantity=line.quantity,
                    )
                    .on_conflict_do_nothing(),
                )
                keys.add((line.order_id, line.line_id))
        case SupplyBooked() | SupplyLapsed():
            keys |= await _end_request(connection, event.request_id)
    if isinstance(event, WithProgress):
        for totals in event.progress:
            await _copy_totals(connection, totals, at)
            keys.add((totals.order_id, totals.line_id))
    if isinstance(event, DemandRemoved):
        await _zero(connection, event.order_id, event.line_id, at)
        keys.discard((event.order_id, event.line_id))
        recount.lines.pop((event.order_id, event.line_id), None)
        changed = {event.order_id}
    else:
        changed = set()
    recount.add(keys, at)
    return changed | {order_id for order_id, _ in keys}


def reaching(event: Event) -> set[UUID]:
    """The orders a pool event may move to a milestone: those with a line it brings to its demand in a measure the
    milestones follow (an order none of whose lines the event brings there stays where it is), and the order of a
    line that leaves its pool."""
    if isinstance(event, DemandRemoved):
        return {event.order_id}
    if not isinstance(event, WithProgress):
        return set()
    return {line.order_id for line in event.progress if any(0 < line.demand <= getattr(line, m) for m in _COVERED)}
