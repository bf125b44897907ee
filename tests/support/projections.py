"""Projecting a store's events into tables in batches of a given size, and reading the rows back to compare."""

from __future__ import annotations

import asyncpg
import sqlalchemy as sa

from shared.eventstore import EventStore
from shared.projection import Projection, Tables, apply_batch


async def rows(connection: asyncpg.Connection, table: sa.Table) -> list[str]:
    """Every row of ``table`` as JSON (generated columns too), sorted."""
    found = await connection.fetchval(f"SELECT array_agg(to_jsonb(t)::text) FROM {table.fullname} t")
    return sorted(found or [])


async def project(store: EventStore, projection: Projection, tables: Tables, limit: int) -> int:
    """Apply every event of ``store`` not yet applied to ``tables``, ``limit`` at a time; how many there were."""
    applied = 0
    async with store.pool.acquire() as connection:
        while batch := await apply_batch(store, connection, projection, tables, projection.checkpoint, limit):
            applied += batch
    return applied
