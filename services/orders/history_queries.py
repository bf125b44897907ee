"""Reading what other services did for an order, for its history, from orders' own tables."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec
import sqlalchemy as sa

from services.orders.flow_tables import order_timeline
from services.orders.views import HistoryItem
from shared.eventstore import Connection
from shared.sql import fetch


class Told(msgspec.Struct, frozen=True, kw_only=True):
    """Another service's event in an order's history, with what places it among the order's own events."""

    at: datetime
    recorded_at: datetime
    event_id: UUID
    item: HistoryItem


async def told_by_others(db: Connection | asyncpg.Pool, order_id: UUID) -> list[Told]:
    """Pooling's and quality's events that touched the order, oldest first."""
    table = order_timeline
    rows = await fetch(db, sa.select(table).where(table.c.order_id == order_id))
    told = [
        Told(
            at=row["at"],
            recorded_at=row["recorded_at"],
            event_id=row["event_id"],
            item=HistoryItem(
                at=row["at"],
                actor=row["actor"],
                event=row["event_type"],
                summary=row["summary"],
                version=None,
                service=row["service"],
            ),
        )
        for row in rows
    ]
    return sorted(told, key=lambda entry: (entry.at, entry.recorded_at))
