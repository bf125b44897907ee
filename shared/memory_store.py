"""The event store in memory, for use-case tests that need no database.

It keeps ``EventStore``'s semantics: a stale expected version raises ``StreamConflict`` and appends nothing,
several streams append all or nothing, positions increase, and ``read_all`` returns events in (transaction id,
position) order, holding back every event of a transaction newer than the oldest one still open, as
``pg_snapshot_xmin`` does. A transaction appending to a stream that another open transaction appended to waits
until that one ends, as an insert waits on an uncommitted unique key in PostgreSQL, so the later of two
overlapping writers gets the conflict.
"""

from __future__ import annotations

import asyncio
import bisect
import dataclasses
import itertools
import math
from collections.abc import AsyncIterator, Callable, Collection, Iterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from events.base import EventCodec
from shared.eventstore import (
    START,
    AppendResult,
    EventStorage,
    GlobalPosition,
    RecordedEvent,
    Selection,
    StreamAppend,
    StreamConflict,
    stream_starts,
)
from shared.kernel.ids import new_id


def _global_order(record: RecordedEvent) -> tuple[int, int]:
    return record.transaction_id, record.position


class MemoryTransaction:
    """What ``MemoryEventStore.transaction()`` yields: a transaction, or a savepoint inside ``parent``'s."""

    def __init__(self, parent: MemoryTransaction | None) -> None:
        self.parent = parent
        self.root: MemoryTransaction = parent.root if parent is not None else self
        self.staged: list[RecordedEvent] = []
        self.transaction_id: int | None = None  # given at the first append, as PostgreSQL gives an xid
        self.locks: dict[str, asyncio.Lock] = {}
        self.ended = asyncio.Event()

    def chain(self) -> Iterator[MemoryTransaction]:
        """This transaction and the ones it is nested in."""
        current: MemoryTransaction | None = self
        while current is not None:
            yield current
            current = current.parent

    def own_events(self) -> list[RecordedEvent]:
        """What this transaction and those it is nested in appended and have not committed yet."""
        return [record for t in self.chain() for record in t.staged]


class MemoryEventStore(EventStorage):
    """Append to and read a service's event streams, in this process's memory."""

    def __init__(self, schema: str, codec: EventCodec) -> None:
        self.schema = schema
        self.codec = codec
        self.on_commit: list[Callable[[], None]] = []
        self._events: list[RecordedEvent] = []  # committed, in global order
        self._streams: dict[str, list[RecordedEvent]] = {}
        self._writing: set[MemoryTransaction] = set()  # open transactions that appended
        self._writers: dict[str, MemoryTransaction] = {}  # the open transaction that appended to each stream
        self._waiting: dict[MemoryTransaction, MemoryTransaction] = {}  # who waits for whom to end
        self._locks: dict[str, asyncio.Lock] = {}
        self._positions = 0
        self._transaction_ids = 0

    async def append_many(
        self, appends: Sequence[StreamAppend], *, connection: MemoryTransaction | None = None
    ) -> AppendResult:
        """Append to several streams atomically: all or nothing, each at its expected version."""
        versions = {a.stream_id: a.expected_version + len(a.events) for a in appends}
        if not any(a.events for a in appends):
            return AppendResult(versions, START, [])
        if connection is None:
            async with self.transaction() as alone:
                result = await self.append_many(appends, connection=alone)
            self.committed()
            return result
        root = connection.root
        while blocking := [w for w in (self._writers.get(s) for s in versions) if w is not None and w is not root]:
            await self._wait_for(root, blocking[0], appends[0])
        for stream_id, expected in stream_starts(appends).items():
            actual = self._version(stream_id, connection)
            if actual != expected:
                raise StreamConflict(stream_id, expected, actual)
        if root.transaction_id is None:
            self._transaction_ids += 1
            root.transaction_id = self._transaction_ids
            self._writing.add(root)
        recorded_at = datetime.now(UTC)
        records: list[RecordedEvent] = []
        for append in appends:
            metadata = append.metadata
            for offset, event in enumerate(append.events, start=1):
                name, schema_version = self.codec.name_of(event)
                self._positions += 1
                records.append(
                    RecordedEvent(
                        position=self._positions,
                        transaction_id=root.transaction_id,
                        event_id=new_id(),
                        stream_id=append.stream_id,
                        stream_type=append.stream_type,
                        stream_version=append.expected_version + offset,
                        event_type=name,
                        schema_version=schema_version,
                        data=self.codec.encode(event).decode(),
                        metadata=metadata,
                        recorded_at=recorded_at,
                    )
                )
        connection.staged.extend(records)
        self._writers.update(dict.fromkeys(versions, root))
        last = records[-1]
        return AppendResult(versions, last.global_position, [r.event_id for r in records])

    async def _wait_for(self, waiter: MemoryTransaction, writer: MemoryTransaction, append: StreamAppend) -> None:
        """Wait until ``writer`` ends; where it waits for ``waiter`` already, PostgreSQL would find a deadlock
        and fail one of them: here ``waiter`` fails with a conflict, so its command runs again."""
        blocker: MemoryTransaction | None = writer
        while blocker is not None:
            if blocker is waiter:
                raise StreamConflict(append.stream_id, append.expected_version, None)
            blocker = self._waiting.get(blocker)
        self._waiting[waiter] = writer
        try:
            await writer.ended.wait()
        finally:
            del self._waiting[waiter]

    def _version(self, stream_id: str, connection: MemoryTransaction | None) -> int:
        committed = self._streams.get(stream_id, [])
        version = committed[-1].stream_version if committed else 0
        own = [r.stream_version for r in connection.own_events() if r.stream_id == stream_id] if connection else []
        return max([version, *own])

    async def stream_version(self, stream_id: str, *, connection: MemoryTransaction | None = None) -> int:
        return self._version(stream_id, connection)

    async def read_stream(
        self, stream_id: str, *, after_version: int = 0, connection: MemoryTransaction | None = None
    ) -> list[RecordedEvent]:
        own = [r for r in connection.own_events() if r.stream_id == stream_id] if connection else []
        records = [*self._streams.get(stream_id, []), *own]
        return sorted((r for r in records if r.stream_version > after_version), key=lambda r: r.stream_version)

    async def read_all(
        self, after: GlobalPosition = START, limit: int = 1000, *, connection: MemoryTransaction | None = None
    ) -> list[RecordedEvent]:
        """Committed events after ``after`` in global order, never skipping one that commits late."""
        oldest_open = min((t.transaction_id or 0 for t in self._writing), default=math.inf)
        start = bisect.bisect_right(self._events, (after.transaction_id, after.position), key=_global_order)
        after_start = itertools.islice(self._events, start, None)
        visible = itertools.takewhile(lambda r: r.transaction_id < oldest_open, after_start)
        return list(itertools.islice(visible, limit))

    async def read_all_of(
        self,
        event_types: Collection[str],
        after: GlobalPosition,
        limit: int,
        *,
        connection: MemoryTransaction | None = None,
    ) -> Selection:
        """The events of ``event_types`` among the next ``limit`` that ``read_all`` would return, and where that
        read ends."""
        page = Selection.of_all(await self.read_all(after, limit), after)
        return dataclasses.replace(page, events=[r for r in page.events if r.event_type in event_types])

    async def committed_after(self, after: GlobalPosition, *, connection: MemoryTransaction | None = None) -> bool:
        """Are there committed events after ``after``, even ones ``read_all`` holds back behind an open transaction?"""
        own = connection.own_events() if connection else []
        return any(r.global_position > after for r in [*self._events, *own])

    async def recorded_after(
        self, after: GlobalPosition, event_types: Collection[str], *, connection: MemoryTransaction | None = None
    ) -> list[RecordedEvent]:
        """Events of ``event_types`` after ``after``, in global order, with those ``read_all`` still holds back
        behind an open transaction (and, on ``connection``, that transaction's own)."""
        own = connection.own_events() if connection else []
        found = [r for r in [*self._events, *own] if r.global_position > after and r.event_type in event_types]
        return sorted(found, key=lambda r: r.global_position)

    @asynccontextmanager
    async def transaction(self, connection: MemoryTransaction | None = None) -> AsyncIterator[MemoryTransaction]:
        """A transaction, or a savepoint inside ``connection``'s: what it appended is kept only if it ends well."""
        current = MemoryTransaction(connection)
        if connection is not None:
            yield current
            connection.staged.extend(current.staged)  # a savepoint released; an exception drops its appends
            return
        try:
            yield current
            self._commit(current)
        finally:
            self._writing.discard(current)
            for stream_id in [s for s, writer in self._writers.items() if writer is current]:
                del self._writers[stream_id]
            current.ended.set()
            for lock in current.locks.values():
                lock.release()

    def _commit(self, transaction: MemoryTransaction) -> None:
        """Keep the transaction's events; no other transaction appended to its streams since (they waited)."""
        for record in transaction.staged:
            self._streams.setdefault(record.stream_id, []).append(record)
            bisect.insort(self._events, record, key=_global_order)

    async def lock_streams(self, stream_ids: Collection[str], *, connection: MemoryTransaction) -> None:
        """Hold each stream until the outermost transaction ends, taken in sorted order."""
        held = connection.root.locks
        for stream_id in sorted(set(stream_ids) - held.keys()):
            lock = self._locks.setdefault(stream_id, asyncio.Lock())
            await lock.acquire()
            held[stream_id] = lock

    def committed(self) -> None:
        """Wake this store's readers: events were committed."""
        for wake in self.on_commit:
            wake()
