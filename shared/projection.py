"""Read models: SQLAlchemy Core tables in the service's schema, kept up to date from its event store.

A projector applies events in global order in batches; each batch locks the projection's checkpoint row
(``FOR UPDATE``) first, so replicas and a rebuild's swap take turns instead of racing. A projection may apply a
whole batch at once (``apply_many``: a few set-based statements instead of round trips per event); its
per-event ``apply`` stays for the batches that hold an event it cannot apply, and for replays.

An event a projection cannot apply (a value too big for its column, a violated constraint, data that does
not decode, an error in the projection's code) is parked in ``projection_dead_letters`` and logged once,
and the projection goes on with the next event; an operator replays it after a fix. An outage of PostgreSQL
is never the event's fault: the batch is tried again, with backoff, until the database is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import asyncpg
import sqlalchemy as sa

from events.base import Event
from shared import logs, tracing
from shared.eventstore import Connection, EventStore, GlobalPosition, RecordedEvent, Selection
from shared.outages import Backoff, is_outage

log = logging.getLogger("gotong.projection")
PARKED = "projection_dead_letters"
PARKED_SHOWN = 20  # parked events per projection that /ready names


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
Decoded = Sequence[tuple[Event, RecordedEvent]]
ApplyMany = Callable[[Connection, Tables, Decoded], Awaitable[None]]


@dataclass(frozen=True)
class Projection:
    """A named read model: its tables and how each event changes them.

    ``apply_many``, when given, applies a batch of events (in global order) at once, leaving the tables exactly
    as ``apply`` of each event in turn would. ``takes``, when given, names the only event types the projection
    changes its tables for: the store sends it only those, and its checkpoint moves past the others unread (a
    projection of a few rare types is not handed every event of a bulk to decode and ignore).
    """

    name: str
    tables: Sequence[sa.Table]
    apply: Apply
    apply_many: ApplyMany | None = None
    takes: frozenset[str] | None = None

    @property
    def checkpoint(self) -> str:
        return f"projection:{self.name}"

    def live_tables(self) -> Tables:
        return Tables({t.name: t for t in self.tables})

    async def read_next(
        self, store: EventStore, connection: Connection, after: GlobalPosition, limit: int
    ) -> Selection:
        """Of the next ``limit`` events after ``after``, those the projection takes."""
        if self.takes is not None:
            return await store.read_all_of(self.takes, after, limit, connection=connection)
        return Selection.of_all(await store.read_all(after, limit, connection=connection), after)

    async def apply_all(self, connection: Connection, tables: Tables, events: Decoded) -> None:
        """Apply ``events`` in order: at once if the projection can, else one by one."""
        if self.apply_many is not None:
            await self.apply_many(connection, tables, events)
            return
        for event, record in events:
            await self.apply(connection, tables, event, record)

    def observed(self, service: str) -> Projection:
        """This projection, naming the event it applies in the log lines and, for an event that carries a
        trace context, in a span of the event's trace; a batch applied at once is one span and one line, under
        its first traced event and naming its first event."""

        async def apply(connection: Connection, tables: Tables, event: Event, record: RecordedEvent) -> None:
            meta, event_id = record.metadata, str(record.event_id)
            with (
                logs.bound(event_id=event_id, correlation_id=meta.correlation_id),
                tracing.projecting(service, self.name, record.event_type, event_id, meta.traceparent, meta.tracestate),
            ):
                await self.apply(connection, tables, event, record)
                log.debug("projection %s.%s applied %s", service, self.name, record.event_type)

        async def apply_many(connection: Connection, tables: Tables, events: Decoded) -> None:
            assert self.apply_many is not None and events
            first, last = events[0][1], events[-1][1]
            traced = [(r.metadata.traceparent, r.metadata.tracestate) for _, r in events if r.metadata.traceparent]
            with (
                logs.bound(event_id=str(first.event_id), correlation_id=first.metadata.correlation_id),
                tracing.projecting_batch(service, self.name, len(events), traced),
            ):
                await self.apply_many(connection, tables, events)
                log.debug(
                    "projection %s.%s applied %d events at positions %d to %d",
                    service,
                    self.name,
                    len(events),
                    first.position,
                    last.position,
                )

        return replace(self, apply=apply, apply_many=None if self.apply_many is None else apply_many)


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
    """Apply the next batch of events in one transaction; returns how many events it went past (``limit`` at most,
    of any type: those the projection does not take count too).

    An event that cannot be applied is parked and the batch goes on past it (see ``_apply_parking``).
    """
    try:
        async with connection.transaction():
            after = await read_checkpoint(connection, store.schema, checkpoint, lock=True)
            selection = await projection.read_next(store, connection, after, limit)
            try:
                if selection.events:
                    await projection.apply_all(connection, tables, [(store.decode(r), r) for r in selection.events])
            except Exception as error:
                if is_outage(error):
                    raise
                raise _Unapplicable from error
            if selection.passed:
                await write_checkpoint(connection, store.schema, checkpoint, selection.reached)
            return selection.passed
    except _Unapplicable:
        return await _apply_parking(store, connection, projection, tables, checkpoint, limit)


class _Unapplicable(Exception):
    """An event of the batch cannot be applied: the batch is undone and applied again, event by event."""


async def _apply_parking(
    store: EventStore, connection: Connection, projection: Projection, tables: Tables, checkpoint: str, limit: int
) -> int:
    """The batch again, each event in a savepoint: one that fails is parked, the others are applied.

    Only a batch that holds an unapplicable event pays for the savepoints.
    """
    async with connection.transaction():
        after = await read_checkpoint(connection, store.schema, checkpoint, lock=True)
        selection = await projection.read_next(store, connection, after, limit)
        for record in selection.events:
            try:
                async with connection.transaction():
                    await projection.apply(connection, tables, store.decode(record), record)
            except Exception as error:
                if is_outage(error):
                    raise
                await park(connection, store.schema, projection.name, record, error)
        if selection.passed:
            await write_checkpoint(connection, store.schema, checkpoint, selection.reached)
        return selection.passed


async def park(connection: Connection, schema: str, projection: str, record: RecordedEvent, error: Exception) -> None:
    """Record that ``projection`` could not apply ``record`` (one letter per projection and event, its error and
    time renewed when a rebuild meets it again) and log it the first time."""
    reason = f"{type(error).__name__}: {error}"
    letter = await connection.fetchrow(
        f"INSERT INTO {schema}.{PARKED} (projection, event_id, stream_id, stream_version, event_type, "
        "transaction_id, position, error) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
        "ON CONFLICT (projection, event_id) DO UPDATE SET error = EXCLUDED.error, failed_at = now() "
        "RETURNING id, xmax = 0 AS inserted",
        projection,
        record.event_id,
        record.stream_id,
        record.stream_version,
        record.event_type,
        record.transaction_id,
        record.position,
        reason,
    )
    if letter is not None and letter["inserted"]:
        log.error(
            "projection %s.%s parked event %s (%s at position %d) as dead letter %d: %s",
            schema,
            projection,
            record.event_id,
            record.event_type,
            record.position,
            letter["id"],
            reason,
            extra={"fields": {"event_id": str(record.event_id)}},
        )


async def parked_events(connection: Connection | asyncpg.Pool, schema: str) -> dict[str, list[dict[str, object]]]:
    """The first events each projection parked, by projection name."""
    rows = await connection.fetch(
        f"SELECT id, projection, event_id::text AS event_id, position, error FROM "
        f"(SELECT *, row_number() OVER (PARTITION BY projection ORDER BY id) AS n FROM {schema}.{PARKED}) p "
        "WHERE n <= $1 ORDER BY projection, id",
        PARKED_SHOWN,
    )
    parked: dict[str, list[dict[str, object]]] = {}
    for row in rows:
        parked.setdefault(row["projection"], []).append(
            {"id": row["id"], "event_id": row["event_id"], "position": row["position"], "error": row["error"]}
        )
    return parked


async def replay_parked(store: EventStore, projection: Projection, letter_id: int) -> bool:
    """Apply a parked event to the projection's live tables and drop its letter, in one transaction;
    False if there is no such letter. Raises the projection's error if the event still cannot be applied.

    The event is applied now, after the events that followed it: a projection whose rows depend on the
    order of events may need a rebuild instead (``gotong projections rebuild``).
    """
    schema = store.schema
    async with store.pool.acquire() as connection, connection.transaction():
        row = await connection.fetchrow(
            f"SELECT event_id, stream_id, stream_version FROM {schema}.{PARKED} "
            "WHERE id = $1 AND projection = $2 FOR UPDATE",
            letter_id,
            projection.name,
        )
        if row is None:
            return False
        await read_checkpoint(connection, schema, projection.checkpoint, lock=True)  # the projector waits
        records = await store.read_stream(
            row["stream_id"], after_version=row["stream_version"] - 1, connection=connection
        )
        record = next((r for r in records if r.event_id == row["event_id"]), None)
        if record is not None:
            await projection.apply(connection, projection.live_tables(), store.decode(record), record)
        await connection.execute(f"DELETE FROM {schema}.{PARKED} WHERE id = $1", letter_id)
    return True


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
        """Apply everything committed so far, a batch of each projection in turn, so one far behind (a bulk
        of events it writes much for) does not hold back the others; returns the number of events applied."""
        total = 0
        behind = [(live.observed(self.store.schema), live.live_tables()) for live in self.projections]
        async with self.store.pool.acquire() as connection:
            while behind:
                still = []
                for projection, tables in behind:
                    if applied := await apply_batch(
                        self.store, connection, projection, tables, projection.checkpoint, self.batch
                    ):
                        total += applied
                        still.append((projection, tables))
                behind = still
        if total:
            async with self._advanced:
                self._advanced.notify_all()
        return total

    async def run(self, poll_seconds: float = 1.0) -> None:
        """Keep the projections current; wait out outages with backoff (anything else is a bug, and raised)."""
        logs.service.set(self.store.schema)  # this task's log lines
        backoff = Backoff(f"projector of {self.store.schema}", log)
        while True:
            self._wake.clear()
            applied = await backoff.retry(self.catch_up)
            if not applied:
                with contextlib.suppress(TimeoutError):  # not wait_for, which may swallow a cancellation (3.11)
                    async with asyncio.timeout(poll_seconds):
                        await self._wake.wait()

    async def parked(self) -> dict[str, list[dict[str, object]]]:
        """The events this service's projections parked (first few of each), by projection name."""
        return await parked_events(self.store.pool, self.store.schema)

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
