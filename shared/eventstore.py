"""The event store: one ``events`` table per service schema in PostgreSQL.

Global order is the pair (transaction id, position). A reader of everything only reads events whose
transaction is below the oldest transaction still running (``pg_snapshot_xmin``), so an event that commits
late with a lower position is never skipped.
"""

from __future__ import annotations

import asyncio
import zlib
from abc import abstractmethod
from collections.abc import AsyncIterator, Collection, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol, TypeAlias
from uuid import UUID

import asyncpg
import msgspec

from events.base import Event, EventCodec
from shared import metrics, tracing
from shared.kernel.ids import new_id
from shared.outages import is_outage


class Metadata(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Why an event happened: who asked, in answer to what."""

    correlation_id: str | None = None
    causation_id: str | None = None
    actor: str | None = None
    command_id: str | None = None
    org: str | None = None
    """The organisation the actor acted for (the audit trail of an organisation is read by it)."""
    traceparent: str | None = None
    """The W3C trace context of the append that stored the event (only while tracing is on); the relay sends it."""
    tracestate: str | None = None


class GlobalPosition(msgspec.Struct, frozen=True, order=True):
    """A point in a service's global event order: (transaction id, position)."""

    transaction_id: int = 0
    position: int = 0


START = GlobalPosition()


@dataclass(frozen=True)
class StreamAppend:
    """Events to append to one stream, expecting it to be at ``expected_version`` (0 = a new stream).

    A stream may have several appends in one ``append_many``, each continuing the one before (its events with
    metadata of their own): only the first is checked against the stored version."""

    stream_id: str
    stream_type: str
    expected_version: int
    events: Sequence[Event]
    metadata: Metadata = field(default_factory=Metadata)


@dataclass(frozen=True)
class Selection:
    """What ``read_all_of`` read: the events of the types asked for among the next committed ones, the position
    of the last event it went past (of any type; where a reader goes on from) and how many it went past."""

    events: list[RecordedEvent]
    reached: GlobalPosition
    passed: int

    @classmethod
    def of_all(cls, page: list[RecordedEvent], after: GlobalPosition) -> Selection:
        """A page of ``read_all`` after ``after``, as a selection of every type."""
        return cls(page, page[-1].global_position if page else after, len(page))


@dataclass(frozen=True)
class AppendResult:
    versions: dict[str, int]
    position: GlobalPosition
    event_ids: list[UUID]


@dataclass(frozen=True)
class RecordedEvent:
    """An event as stored; ``data`` is its JSON, decoded on demand."""

    position: int
    transaction_id: int
    event_id: UUID
    stream_id: str
    stream_type: str
    stream_version: int
    event_type: str
    schema_version: int
    data: str
    metadata: Metadata
    recorded_at: datetime

    @property
    def global_position(self) -> GlobalPosition:
        return GlobalPosition(self.transaction_id, self.position)


class StreamConflict(Exception):
    """A stream was not at the version the command expected."""

    def __init__(self, stream_id: str, expected: int, actual: int | None) -> None:
        super().__init__(f"stream {stream_id} expected at version {expected}, found {actual}")
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


_metadata_decoder = msgspec.json.Decoder(Metadata)
_metadata_encoder = msgspec.json.Encoder()

_COLUMNS = (
    "position, transaction_id::text::bigint AS transaction_id, event_id, stream_id, stream_type, stream_version,"
    " event_type, schema_version, data::text AS data, metadata::text AS metadata, recorded_at"
)


def stream_starts(appends: Sequence[StreamAppend]) -> dict[str, int]:
    """Each stream's expected version before ``appends``; a later append of a stream must continue the one before."""
    starts: dict[str, int] = {}
    ends: dict[str, int] = {}
    for append in appends:
        end = ends.get(append.stream_id)
        if end is None:
            starts[append.stream_id] = append.expected_version
        elif append.expected_version != end:
            raise StreamConflict(append.stream_id, append.expected_version, end)
        ends[append.stream_id] = append.expected_version + len(append.events)
    return starts


def schema_sql(schema: str) -> list[str]:
    """DDL of a service's event store tables."""
    return [
        f"CREATE SCHEMA IF NOT EXISTS {schema}",
        f"""CREATE TABLE IF NOT EXISTS {schema}.events (
            position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
            event_id uuid NOT NULL,
            stream_id text NOT NULL,
            stream_type text NOT NULL,
            stream_version integer NOT NULL,
            event_type text NOT NULL,
            schema_version integer NOT NULL,
            data jsonb NOT NULL,
            metadata jsonb NOT NULL,
            recorded_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT events_stream_version UNIQUE (stream_id, stream_version)
        )""",
        f"CREATE INDEX IF NOT EXISTS events_global_order ON {schema}.events (transaction_id, position)",
    ]


def notify_after_commit_sql(schema: str) -> list[str]:
    """Readers are woken by ``EventStore.committed()`` after each commit, not by a trigger inside it: a
    NOTIFY inside the appending transaction serialises commits and costs group commit."""
    return [
        f"DROP TRIGGER IF EXISTS events_notify ON {schema}.events",
        f"DROP FUNCTION IF EXISTS {schema}.notify_events()",
    ]


def _record(row: asyncpg.Record) -> RecordedEvent:
    return RecordedEvent(
        position=row["position"],
        transaction_id=row["transaction_id"],
        event_id=row["event_id"],
        stream_id=row["stream_id"],
        stream_type=row["stream_type"],
        stream_version=row["stream_version"],
        event_type=row["event_type"],
        schema_version=row["schema_version"],
        data=row["data"],
        metadata=_metadata_decoder.decode(row["metadata"]),
        recorded_at=row["recorded_at"],
    )


Connection: TypeAlias = asyncpg.Connection | asyncpg.pool.PoolConnectionProxy


class EventStorage(Protocol):
    """What Gotong uses of an event store; ``EventStore`` (PostgreSQL) and ``MemoryEventStore`` provide it.

    A ``connection`` is what the store's ``transaction()`` yields: reads and appends on it see and join that
    transaction; without one, each call stands alone and an append commits at once. ``append``, ``load`` and
    ``decode`` are written here once, on top of the rest.
    """

    schema: str
    codec: EventCodec

    async def append(
        self,
        stream_id: str,
        stream_type: str,
        expected_version: int,
        events: Sequence[Event],
        metadata: Metadata | None = None,
        *,
        connection: Connection | None = None,
    ) -> AppendResult:
        append = StreamAppend(stream_id, stream_type, expected_version, events, metadata or Metadata())
        return await self.append_many([append], connection=connection)

    @abstractmethod
    async def append_many(
        self, appends: Sequence[StreamAppend], *, connection: Connection | None = None
    ) -> AppendResult: ...

    @abstractmethod
    async def stream_version(self, stream_id: str, *, connection: Connection | None = None) -> int: ...

    @abstractmethod
    async def read_stream(
        self, stream_id: str, *, after_version: int = 0, connection: Connection | None = None
    ) -> list[RecordedEvent]: ...

    async def read_streams(
        self, probes: Sequence[tuple[str, int]], *, connection: Connection | None = None
    ) -> list[RecordedEvent]:
        """Several streams' events, each after its version in ``probes``, by stream and version."""
        return [
            record
            for stream_id, after in sorted(probes)
            for record in await self.read_stream(stream_id, after_version=after, connection=connection)
        ]

    async def load(self, stream_id: str, *, connection: Connection | None = None) -> tuple[list[Event], int]:
        """A stream's decoded events and its version."""
        records = await self.read_stream(stream_id, connection=connection)
        return [self.decode(r) for r in records], (records[-1].stream_version if records else 0)

    @abstractmethod
    async def read_all(
        self, after: GlobalPosition = START, limit: int = 1000, *, connection: Connection | None = None
    ) -> list[RecordedEvent]: ...

    @abstractmethod
    async def read_all_of(
        self, event_types: Collection[str], after: GlobalPosition, limit: int, *, connection: Connection | None = None
    ) -> Selection: ...

    @abstractmethod
    async def committed_after(self, after: GlobalPosition, *, connection: Connection | None = None) -> bool: ...

    @abstractmethod
    async def recorded_after(
        self, after: GlobalPosition, event_types: Collection[str], *, connection: Connection | None = None
    ) -> list[RecordedEvent]: ...

    @abstractmethod
    def transaction(self, connection: Connection | None = None) -> AbstractAsyncContextManager[Connection]: ...

    @abstractmethod
    async def lock_streams(self, stream_ids: Collection[str], *, connection: Connection) -> None: ...

    @abstractmethod
    def committed(self) -> None: ...

    def decode(self, record: RecordedEvent) -> Event:
        return self.codec.decode(record.event_type, record.schema_version, record.data)


_LOCK_SQL = """
    SELECT count(pg_advisory_xact_lock(ordered.key))
    FROM (SELECT key FROM unnest($1::bigint[]) WITH ORDINALITY AS given(key, n) ORDER BY n) AS ordered"""
"""Locks the keys in the array's order: a subquery with ORDER BY is not flattened, so the aggregate takes its
rows (and so the locks) in that order."""


def stream_lock_key(schema: str, stream_id: str) -> int:
    """A stable 63-bit key for ``pg_advisory_xact_lock`` on one stream."""
    raw = zlib.crc32(f"{schema}:{stream_id}".encode()) << 31 ^ zlib.adler32(stream_id.encode())
    return raw & 0x7FFF_FFFF_FFFF_FFFF


class EventStore(EventStorage):
    """Append to and read a service's event streams in PostgreSQL."""

    def __init__(self, pool: asyncpg.Pool, schema: str, codec: EventCodec) -> None:
        self.pool = pool
        self.schema = schema
        self.codec = codec
        self.notify_channel = f"{schema}_events"
        # Events appended through this object so far: code that runs a handler in its transaction tells by it
        # whether the handler appended, and so whether its commit needs a NOTIFY (two round trips otherwise spent).
        self.appended = 0
        self._notifying: asyncio.Task[None] | None = None
        self._notify_again = False
        s = schema
        self._append_sql = f"""
            WITH expected AS (
                SELECT e.stream_id, e.version,
                       coalesce((SELECT max(v.stream_version) FROM {s}.events v
                                 WHERE v.stream_id = e.stream_id), 0) AS actual
                FROM unnest($1::text[], $2::int[]) AS e(stream_id, version)
            )
            INSERT INTO {s}.events (event_id, stream_id, stream_type, stream_version, event_type,
                                    schema_version, data, metadata)
            SELECT * FROM unnest($3::uuid[], $4::text[], $5::text[], $6::int[], $7::text[], $8::int[],
                                 $9::jsonb[], $10::jsonb[])
            WHERE NOT EXISTS (SELECT 1 FROM expected WHERE version <> actual)
            RETURNING position, transaction_id::text::bigint AS transaction_id"""
        self._read_stream_sql = (
            f"SELECT {_COLUMNS} FROM {s}.events WHERE stream_id = $1 AND stream_version > $2 ORDER BY stream_version"
        )
        self._read_streams_sql = f"""
            SELECT e.* FROM unnest($1::text[], $2::int[]) AS p(stream, after)
            CROSS JOIN LATERAL (SELECT {_COLUMNS} FROM {s}.events
                                WHERE stream_id = p.stream AND stream_version > p.after) AS e
            ORDER BY e.stream_id, e.stream_version"""
        self._read_all_sql = f"""
            SELECT {_COLUMNS} FROM {s}.events
            WHERE (transaction_id, position) > ($1::text::xid8, $2)
              AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
            ORDER BY events.transaction_id, events.position LIMIT $3"""
        self._read_all_of_sql = f"""
            WITH next AS MATERIALIZED (
                SELECT position, transaction_id, event_type = ANY($4::text[]) AS wanted FROM {s}.events
                WHERE (transaction_id, position) > ($1::text::xid8, $2)
                  AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
                ORDER BY transaction_id, position LIMIT $3
            ), taken AS (
                SELECT position FROM next WHERE wanted
                UNION
                SELECT position FROM (SELECT position FROM next ORDER BY transaction_id DESC, position DESC LIMIT 1) l
            )
            SELECT {_COLUMNS}, (SELECT count(*) FROM next) AS passed FROM {s}.events
            WHERE position = ANY (ARRAY(SELECT position FROM taken))
            ORDER BY events.transaction_id, events.position"""
        self._committed_after_sql = f"""
            SELECT 1 FROM {s}.events WHERE (transaction_id, position) > ($1::text::xid8, $2)
            ORDER BY transaction_id, position LIMIT 1"""
        self._version_sql = f"SELECT coalesce(max(stream_version), 0) FROM {s}.events WHERE stream_id = $1"
        self._late_versions_sql = f"""
            WITH RECURSIVE late AS (
                SELECT e.position, e.stream_id, e.stream_version
                FROM unnest($1::text[], $2::int[]) AS b(stream_id, version)
                JOIN {s}.events e ON e.stream_id = b.stream_id AND e.stream_version = b.version
                WHERE (e.transaction_id, e.position) > ($3::text::xid8, $4)
              UNION
                SELECT e.position, e.stream_id, e.stream_version
                FROM late JOIN {s}.events e
                  ON e.stream_id = late.stream_id AND e.stream_version = late.stream_version - 1
                WHERE (e.transaction_id, e.position) > ($3::text::xid8, $4)
            )
            SELECT {_COLUMNS} FROM {s}.events WHERE position IN (SELECT position FROM late)
            ORDER BY stream_id, stream_version"""
        self._recorded_after_sql = f"""
            SELECT {_COLUMNS} FROM {s}.events
            WHERE (transaction_id, position) > ($1::text::xid8, $2) AND event_type = ANY($3::text[])
            ORDER BY events.transaction_id, events.position"""

    def committed(self) -> None:
        """Wake this service's readers (relays, projectors, feeds in any process): events were committed.

        Call it after a transaction that appended commits. NOTIFYs are coalesced: at most one in flight and
        one more queued behind it. Readers also poll, so a missed call only delays them.
        """
        if self._notifying is not None and not self._notifying.done():
            self._notify_again = True
            return
        self._notifying = asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        while True:
            self._notify_again = False
            try:
                await self.pool.execute("SELECT pg_notify($1, '')", self.notify_channel)
            except Exception as error:
                if not is_outage(error):
                    raise
                return  # the pool is closing or the server is away; readers fall back to polling
            if not self._notify_again:
                return

    async def append_many(
        self, appends: Sequence[StreamAppend], *, connection: Connection | None = None
    ) -> AppendResult:
        """Append to several streams atomically: all or nothing, each at its expected version."""
        if not tracing.enabled():
            return await self._append_many(appends, connection)
        first = appends[0].metadata if appends else Metadata()
        streams, count = [a.stream_id for a in appends], sum(len(a.events) for a in appends)
        with tracing.appending(self.schema, streams, count, first.traceparent, first.tracestate) as traced:
            if traced is not None:  # the events carry the append's span, which the relay continues
                stamp = {"traceparent": traced.traceparent, "tracestate": traced.tracestate}
                appends = [replace(a, metadata=msgspec.structs.replace(a.metadata, **stamp)) for a in appends]
            return await self._append_many(appends, connection)

    async def _append_many(self, appends: Sequence[StreamAppend], connection: Connection | None) -> AppendResult:
        columns: tuple[list[Any], ...] = ([], [], [], [], [], [], [], [])
        versions: dict[str, int] = {}
        for append in appends:
            meta = _metadata_encoder.encode(append.metadata).decode()
            for offset, event in enumerate(append.events, start=1):
                name, schema_version = self.codec.name_of(event)
                for column, value in zip(
                    columns,
                    (
                        new_id(),
                        append.stream_id,
                        append.stream_type,
                        append.expected_version + offset,
                        name,
                        schema_version,
                        self.codec.encode(event).decode(),
                        meta,
                    ),
                    strict=True,
                ):
                    column.append(value)
            versions[append.stream_id] = append.expected_version + len(append.events)
        if not columns[0]:
            return AppendResult(versions, START, [])
        starts = stream_starts(appends)
        args = (list(starts), list(starts.values()), *columns)
        try:
            if connection is None:
                rows = await self.pool.fetch(self._append_sql, *args)
            else:
                rows = await connection.fetch(self._append_sql, *args)
        except asyncpg.UniqueViolationError as error:
            metrics.APPEND_CONFLICTS.labels(self.schema).inc()
            first = appends[0]
            raise StreamConflict(first.stream_id, first.expected_version, None) from error
        if not rows:
            metrics.APPEND_CONFLICTS.labels(self.schema).inc()
            await self._raise_conflict(appends, connection)
        metrics.EVENTS_APPENDED.labels(self.schema).inc(len(rows))
        self.appended += len(rows)
        if connection is None:
            self.committed()  # one statement in its own transaction: committed now
        last = rows[-1]
        return AppendResult(versions, GlobalPosition(last["transaction_id"], last["position"]), columns[0])

    async def _raise_conflict(self, appends: Sequence[StreamAppend], connection: Connection | None) -> None:
        for append in appends:
            actual = await self.stream_version(append.stream_id, connection=connection)
            if actual != append.expected_version:
                raise StreamConflict(append.stream_id, append.expected_version, actual)
        raise StreamConflict(appends[0].stream_id, appends[0].expected_version, None)

    async def stream_version(self, stream_id: str, *, connection: Connection | None = None) -> int:
        executor = connection or self.pool
        version: int = await executor.fetchval(self._version_sql, stream_id)
        return version

    async def read_stream(
        self, stream_id: str, *, after_version: int = 0, connection: Connection | None = None
    ) -> list[RecordedEvent]:
        executor = connection or self.pool
        rows = await executor.fetch(self._read_stream_sql, stream_id, after_version)
        return [_record(row) for row in rows]

    async def read_streams(
        self, probes: Sequence[tuple[str, int]], *, connection: Connection | None = None
    ) -> list[RecordedEvent]:
        """Several streams' events, each after its version in ``probes``, by stream and version: one statement."""
        if not probes:
            return []
        executor = connection or self.pool
        streams, versions = zip(*probes, strict=True)
        rows = await executor.fetch(self._read_streams_sql, list(streams), list(versions))
        return [_record(row) for row in rows]

    async def read_all(
        self, after: GlobalPosition = START, limit: int = 1000, *, connection: Connection | None = None
    ) -> list[RecordedEvent]:
        """Committed events after ``after`` in global order, never skipping one that commits late."""
        executor = connection or self.pool
        rows = await executor.fetch(self._read_all_sql, str(after.transaction_id), after.position, limit)
        return [_record(row) for row in rows]

    async def read_all_of(
        self, event_types: Collection[str], after: GlobalPosition, limit: int, *, connection: Connection | None = None
    ) -> Selection:
        """The events of ``event_types`` among the next ``limit`` that ``read_all`` would return, and where that
        read ends: a reader of a few types goes on from there, past the others, which PostgreSQL reads by the
        global order's index and the table's pages without sending them. Only the last is sent (its position
        and how many were passed come with it), whatever its type."""
        executor = connection or self.pool
        wanted = set(event_types)
        rows = await executor.fetch(
            self._read_all_of_sql, str(after.transaction_id), after.position, limit, sorted(wanted)
        )
        if not rows:
            return Selection([], after, 0)
        records = [_record(row) for row in rows]
        events = [r for r in records if r.event_type in wanted]
        return Selection(events, records[-1].global_position, rows[0]["passed"])

    async def late_versions(
        self, probes: Sequence[tuple[str, int]], beyond: GlobalPosition, *, connection: Connection | None = None
    ) -> list[RecordedEvent]:
        """The events at the (stream, version) ``probes`` that sort after ``beyond`` in global order, each with
        its stream's versions below it down to the first that does not, by stream and version.

        Global order is not each stream's order: a transaction that took its id before waiting for a stream's
        lock (a handler writes its inbox row first) appends the stream's next version with a lower id than the
        transaction that appended the version before. Such earlier versions are committed, as a later version of
        their stream is, but ``read_all`` reaches them only later, and may hold them back behind another open
        transaction."""
        if not probes:
            return []
        executor = connection or self.pool
        streams, versions = zip(*probes, strict=True)
        rows = await executor.fetch(
            self._late_versions_sql, list(streams), list(versions), str(beyond.transaction_id), beyond.position
        )
        return [_record(row) for row in rows]

    async def committed_after(self, after: GlobalPosition, *, connection: Connection | None = None) -> bool:
        """Are there committed events after ``after``, even ones ``read_all`` holds back behind an open transaction?"""
        executor = connection or self.pool
        return await executor.fetchval(self._committed_after_sql, str(after.transaction_id), after.position) is not None

    async def recorded_after(
        self, after: GlobalPosition, event_types: Collection[str], *, connection: Connection | None = None
    ) -> list[RecordedEvent]:
        """Events of ``event_types`` after ``after``, in global order, with those ``read_all`` still holds back
        behind an open transaction (and, on ``connection``, that transaction's own)."""
        executor = connection or self.pool
        rows = await executor.fetch(
            self._recorded_after_sql, str(after.transaction_id), after.position, list(event_types)
        )
        return [_record(row) for row in rows]

    @asynccontextmanager
    async def transaction(self, connection: Connection | None = None) -> AsyncIterator[Connection]:
        """A transaction on a connection of the pool, or a savepoint inside ``connection``'s."""
        if connection is not None:
            async with connection.transaction():
                yield connection
            return
        async with self.pool.acquire() as acquired, acquired.transaction():
            yield acquired

    async def lock_streams(self, stream_ids: Collection[str], *, connection: Connection) -> None:
        """Hold each stream until the transaction ends (``pg_advisory_xact_lock``), taken in sorted order.

        One statement takes them all, one after another in that order. A command that locks in several steps
        (to read some streams before it waits for a contended one) keeps every step's streams sorting after
        those it holds, so all commands still lock in one global order and none can deadlock another.
        """
        keys = [stream_lock_key(self.schema, stream_id) for stream_id in sorted(set(stream_ids))]
        if keys:
            await connection.execute(_LOCK_SQL, keys)
