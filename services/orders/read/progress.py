"""Per-line progress of an order, projected from pooling's and quality's events by orders' subscriptions.

Each function writes inside the handler's transaction (``hctx.connection``), so with the consumer's inbox
every event counts exactly once. Pooling's and quality's events name the (order, line, quantity) they affect.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from services.orders.domain.line_progress import MEASURES, NO_PROGRESS, LineProgress, Measure
from services.orders.read.tables import order_lines_progress
from shared.eventstore import Connection
from shared.sql import execute, fetch

PROGRESS_CHANNEL = "orders_progress"
"""Notified when a line's progress changes, so open order feeds send the new progress."""


async def add_line_progress(
    connection: Connection, order_id: UUID, line_id: UUID, measure: Measure, quantity: int, at: datetime
) -> None:
    """Add ``quantity`` (negative to take back, e.g. an allocation released) to one measure of a line."""
    table = order_lines_progress
    column = table.c[measure]
    await execute(
        connection,
        insert(table)
        .values(order_id=order_id, line_id=line_id, updated_at=at, **{measure: max(quantity, 0)})
        .on_conflict_do_update(
            index_elements=[table.c.order_id, table.c.line_id],
            set_={measure: sa.func.greatest(column + quantity, 0), "updated_at": at},
        ),
    )


async def set_line_progress(
    connection: Connection, order_id: UUID, line_id: UUID, measure: Measure, total: int, at: datetime
) -> None:
    """Set one measure of a line to ``total`` (for events that carry the total after the change)."""
    table = order_lines_progress
    await execute(
        connection,
        insert(table)
        .values(order_id=order_id, line_id=line_id, updated_at=at, **{measure: max(total, 0)})
        .on_conflict_do_update(
            index_elements=[table.c.order_id, table.c.line_id],
            set_={measure: max(total, 0), "updated_at": at},
        ),
    )


async def progress_of(executor: Connection | asyncpg.Pool, order_id: UUID) -> dict[UUID, LineProgress]:
    """Every line of the order with progress so far; lines with none are absent (read as ``NO_PROGRESS``)."""
    table = order_lines_progress
    rows = await fetch(executor, sa.select(table).where(table.c.order_id == order_id))
    return {row["line_id"]: LineProgress(**{m: row[m] for m in MEASURES}) for row in rows}


async def covered_since(executor: Connection | asyncpg.Pool, order_id: UUID) -> dict[Measure, datetime]:
    """For each measure that covers every line of the order kept here, the time the last of them got there."""
    table = order_lines_progress
    measures: tuple[Measure, ...] = ("accepted", "passed", "shipped")
    columns = [table.c[f"{m}_since"] for m in measures]
    rows = await fetch(executor, sa.select(*columns).where(table.c.order_id == order_id))
    times = {m: [row[f"{m}_since"] for row in rows] for m in measures}
    return {m: max(found) for m, found in times.items() if found and None not in found}


__all__ = [
    "MEASURES",
    "NO_PROGRESS",
    "PROGRESS_CHANNEL",
    "LineProgress",
    "Measure",
    "add_line_progress",
    "covered_since",
    "progress_of",
    "set_line_progress",
]
