"""Read models: SQLAlchemy Core tables in the service's schema, kept up to date from its event store.

A projector applies events in global order in batches; each batch locks the projection's checkpoint row
(``FOR UPDATE``) first, so replicas and a rebuild's swap take turns instead of racing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

import asyncpg
import sqlalchemy as sa

from events.base import Event
from shared.eventstore import Connection, EventStore, GlobalPosition, RecordedEvent

log = logging.getLogger("gotong.projection")


class Tables(Mapping[str, sa.Table]):
    """The physical tables a projection writes, by logical name (live ones, or a rebuild's copies)."""

    def __init__(self, tables: Mapping[str, sa.Table]) -> None:
        self._tables = dict(tables)

    def __getitem__(self, name: str) -> sa.Table:
        return self._tables[name]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._tables)

    def __len__(self) -> int:
        return len(self._tables)


Apply = Callable[[Connection, Tables, Event, RecordedEvent], Awaitable[None]]


@dataclass(frozen=True)
class Projection:
    """A named read model: its tables and how each event changes them."""

    name: str
    tables: Sequence[sa.Table]
    apply: Apply

    @property
    def checkpoint(self) -> str:
        return f"projection:{self.name}"

    def live_tables(self) -> Tables:
        return Tables({t.name: t for t in self.tables})


async def read_checkpoint(connection: Connection, schema: str, name: str, *, lock: bool = False) -> GlobalPosition:
    await connection.execute(f"INSERT INTO {schema}.checkpoints (name) VALUES ($1) ON CONFLICT (name) DO NOTHING", name)
    suffix = " FOR UPDATE" if lock else ""
    row = await connection.fetchrow(
        f"SELECT transaction_id, position FROM {schema}.checkpoints WHERE name = $1{suffix}", name
    )
    assert row is not None
    return GlobalPosition(row["transaction_id"], row["position"])


async def write_checkpoint(connection: Connection, schema: str, name: str, position: GlobalPosition) -> None:
    await connection.execute(
        f"UPDATE {schema}.checkpoints SET transaction_id = $2, position = $3, updated_at = now() WHERE name = $1",
        name,
        position.transaction_id,
        position.position,
    )


async def apply_batch(
    store: EventStore, connection: Connection, projection: Projection, tables: Tables, checkpoint: str, limit: int
) -> int:
    """Apply the next batch of events in one transaction; returns how many were applied."""
    async with connection.transaction():
        after = await read_checkpoint(connection, store.schema, checkpoint, lock=True)
        records = await store.read_all(after, limit, connection=connection)
        for record in records:
            await projection.apply(connection, tables, store.decode(record), record)
        if records:
            await write_checkpoint(connection, store.schema, checkpoint, records[-1].global_position)
        return len(records)


class Projector:
    """Keeps one service's projections current and lets queries wait for their own writes."""

    def __init__(self, store: EventStore, projections: Sequence[Projection], *, batch: int = 500) -> None:
        self.store = store
        self.projections = list(projections)
        self.batch = batch
        self._advanced = asyncio.Condition()
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def catch_up(self) -> int:
        """Apply everything committed so far; returns the number of events applied."""
        total = 0
        async with self.store.pool.acquire() as connection:
            for projection in self.projections:
                tables = projection.live_tables()
                while applied := await apply_batch(
                    self.store, connection, projection, tables, projection.checkpoint, self.batch
                ):
                    total += applied
        if total:
            async with self._advanced:
                self._advanced.notify_all()
        return total

    async def run(self, poll_seconds: float = 1.0) -> None:
        while True:
            self._wake.clear()
            try:
                applied = await self.catch_up()
            except (asyncpg.PostgresError, OSError) as error:
                log.warning("projector could not catch up: %s", error)
                applied = 0
            if not applied:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), poll_seconds)

    async def reached(self, position: int) -> bool:
        """Has every projection applied the event at store ``position``?"""
        async with self.store.pool.acquire() as connection:
            tx = await connection.fetchval(
                f"SELECT transaction_id::text::bigint FROM {self.store.schema}.events WHERE position = $1", position
            )
            if tx is None:
                return True
            target = GlobalPosition(tx, position)
            for projection in self.projections:
                if await read_checkpoint(connection, self.store.schema, projection.checkpoint) < target:
                    return False
        return True

    async def wait_for(self, position: int, timeout: float = 5.0) -> bool:
        """Wait (bounded) until the projections have applied ``position``; False on timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not await self.reached(position):
            self.wake()
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            async with self._advanced:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._advanced.wait(), min(remaining, 0.25))
        return True
