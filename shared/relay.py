"""The outbox relay: a service's committed events, in global order and each stream's in version order, to its
JetStream stream.

One relay per service is active at a time: it holds a session advisory lock on a dedicated connection
(asyncpg's pool would silently release it), writes its checkpoint on that connection only after the
publishes acknowledge, and on any error there lets go and contends again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg
import msgspec
from nats.js import JetStreamContext

from shared import bus, logs, tracing
from shared.eventstore import EventStore, GlobalPosition, Metadata, RecordedEvent
from shared.leases import lease_key
from shared.outages import Backoff, is_outage
from shared.projection import read_checkpoint, write_checkpoint

log = logging.getLogger("gotong.relay")
CHECKPOINT = "relay"
HORIZON_RETRY_SECONDS = 0.005  # first look again at events held back by an older open transaction
SENT_REMEMBERED = 100_000  # streams whose highest version sent the relay keeps in mind
PUBLISH_TIMEOUT = 5.0  # seconds to wait for an ack before restarting from the first unacknowledged event
_encoder = msgspec.json.Encoder()


def event_headers(record: RecordedEvent) -> dict[str, str]:
    return {
        bus.MSG_ID: str(record.event_id),
        bus.EVENT_ID: str(record.event_id),
        bus.STREAM_ID: record.stream_id,
        bus.STREAM_TYPE: record.stream_type,
        bus.STREAM_VERSION: str(record.stream_version),
        bus.POSITION: str(record.position),
        bus.EVENT_TYPE: record.event_type,
        bus.SCHEMA_VERSION: str(record.schema_version),
        bus.METADATA: _encoder.encode(record.metadata).decode(),
        bus.RECORDED_AT: record.recorded_at.isoformat(),
        **_trace_headers(record.metadata),
    }


def _trace_headers(metadata: Metadata) -> dict[str, str]:
    """The trace context stored with the event, for the consumer to continue (the publish span's, when
    tracing here, replaces it)."""
    if metadata.traceparent is None:
        return {}
    if metadata.tracestate is None:
        return {tracing.TRACEPARENT: metadata.traceparent}
    return {tracing.TRACEPARENT: metadata.traceparent, tracing.TRACESTATE: metadata.tracestate}


@dataclass(frozen=True)
class Batch:
    """Events in global order after a checkpoint (``records``), and the order to publish them in (``sending``):
    the same events, each after its stream's earlier versions, with those versions that global order puts later
    (see ``EventStore.late_versions``) sent ahead. They go out again when global order reaches them, and
    JetStream's duplicate window or the consumers' inboxes drop the second copy."""

    records: list[RecordedEvent]
    sending: list[RecordedEvent]

    def reached(self, acknowledged: int) -> int:
        """How many of ``records`` lie within the first ``acknowledged`` events of ``sending``."""
        if acknowledged == len(self.sending):
            return len(self.records)
        sent = {event.event_id for event in self.sending[:acknowledged]}
        return next(n for n, record in enumerate(self.records) if record.event_id not in sent)


def in_stream_order(records: list[RecordedEvent], earlier: list[RecordedEvent]) -> list[RecordedEvent]:
    """``records`` in their order, except that each comes after every lower version of its stream among
    ``records`` and ``earlier``."""
    if not earlier and _ascending_by_stream(records):
        return records
    versions: defaultdict[str, list[RecordedEvent]] = defaultdict(list)
    for record in (*earlier, *records):
        versions[record.stream_id].append(record)
    for stream in versions.values():
        stream.sort(key=lambda record: record.stream_version)
    sent: set[UUID] = set()
    sending: list[RecordedEvent] = []
    for record in records:
        for event in versions[record.stream_id]:
            if event.stream_version > record.stream_version:
                break
            if event.event_id not in sent:
                sent.add(event.event_id)
                sending.append(event)
    return sending


def missing_versions(records: list[RecordedEvent], sent: Mapping[str, int]) -> list[tuple[str, int]]:
    """The (stream, version) pairs a batch lacks below its highest version of each stream: the version under
    its lowest, and any gap, but for those ``sent`` (each stream's highest version sent, all below it with it)
    covers. Each either was published before the batch, or sorts after it in global order."""
    versions: defaultdict[str, set[int]] = defaultdict(set)
    for record in records:
        versions[record.stream_id].add(record.stream_version)
    return [
        (stream, version)
        for stream, present in versions.items()
        for version in range(max(min(present) - 1, sent.get(stream, 0) + 1), max(present))
        if version > 0 and version not in present
    ]


def _ascending_by_stream(records: list[RecordedEvent]) -> bool:
    """Does each stream's version rise through ``records``?"""
    last: dict[str, int] = {}
    for record in records:
        if last.get(record.stream_id, 0) >= record.stream_version:
            return False
        last[record.stream_id] = record.stream_version
    return True


class Relay:
    """Publishes one service's events; run ``run()`` as a task in every replica."""

    def __init__(
        self,
        store: EventStore,
        database_url: str,
        js: JetStreamContext,
        prefix: str,
        *,
        batch: int = 500,
        in_flight: int = 256,
        poll_seconds: float = 1.0,
        before_checkpoint: Callable[[list[RecordedEvent]], None] | None = None,
    ) -> None:
        self.store = store
        self.database_url = database_url
        self.js = js
        self.prefix = prefix
        self.batch = batch
        self.in_flight = in_flight
        self.poll_seconds = poll_seconds
        self.before_checkpoint = before_checkpoint
        self.active = False
        self.published = 0
        self._wake = asyncio.Event()
        # The batch after the one in flight, read meanwhile: a prefix of what reading after that position later
        # returns, as events below the xmin horizon never change and later ones sort after them.
        self._ahead: tuple[GlobalPosition, Batch] | None = None
        # The checkpoint while this relay holds the lock: then no one else writes it, so it is not read again.
        self._held: GlobalPosition | None = None
        self._backoff = Backoff(f"relay of {store.schema}", log)
        # Each stream's highest version this relay has seen acknowledged (and so every version below it, as it
        # sends each stream in order): what a batch lacks below it needs no lookup. Forgotten when it grows large.
        self._sent: dict[str, int] = {}

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Contend for the relay lock forever; publish while holding it."""
        logs.service.set(self.store.schema)  # this task's log lines
        self._backoff = Backoff(f"relay of {self.store.schema}", log)
        while True:
            try:
                await self._hold_and_publish()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # any failure: release the lock, contend again
                if not is_outage(error):
                    log.exception("relay of %s stopped", self.store.schema)
                await self._backoff.wait(error)
            finally:
                self.active = False

    async def _hold_and_publish(self) -> None:
        # Its commits (checkpoints) do not wait for the WAL to reach the disk: a checkpoint lost in a crash of
        # PostgreSQL only means publishing again what JetStream's duplicate window and the consumers' inboxes drop.
        settings = {"application_name": f"gotong-relay-{self.store.schema}", "synchronous_commit": "off"}
        connection: asyncpg.Connection = await asyncpg.connect(self.database_url, server_settings=settings)
        try:
            database = await connection.fetchval("SELECT current_database()")
            key = lease_key(database, self.store.schema, "relay")  # one active relay: a lease like a consumer's
            while not await connection.fetchval("SELECT pg_try_advisory_lock($1)", key):
                await self._sleep()
            self.active = True
            self._ahead = None
            self._held = await read_checkpoint(connection, self.store.schema, CHECKPOINT)
            log.info("relay of %s is active", self.store.schema)
            retry = HORIZON_RETRY_SECONDS
            while True:
                self._wake.clear()
                if published := await self.publish_batch(connection):
                    retry = HORIZON_RETRY_SECONDS
                self._backoff.succeeded()
                if published == self.batch or self._wake.is_set():
                    continue  # more to read
                if await self.store.committed_after(self._held, connection=connection):
                    # committed events wait for an older transaction to end, which wakes no one: look again soon
                    await self._sleep(retry)
                    retry = min(retry * 2, self.poll_seconds)
                else:
                    await self._sleep()
        finally:
            self._held = None
            with contextlib.suppress(Exception):
                await connection.close(timeout=2)

    async def _sleep(self, seconds: float | None = None) -> None:
        # asyncio.timeout, not wait_for: Python 3.11's wait_for swallows a cancellation that comes as the wake-up
        # does, which left a stopping relay running until its runtime gave up waiting for it.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds or self.poll_seconds):
                await self._wake.wait()

    async def publish_batch(self, connection: asyncpg.Connection) -> int:
        """Publish the next batch, pipelined; checkpoint the acknowledged prefix. Returns events published."""
        schema = self.store.schema
        after = self._held if self._held is not None else await read_checkpoint(connection, schema, CHECKPOINT)
        ahead, self._ahead = self._ahead, None
        batch = ahead[1] if ahead is not None and ahead[0] == after else await self._read(after, connection)
        records = batch.records
        if not records:
            return 0
        publishing = asyncio.ensure_future(self._publish(batch.sending))
        try:
            if len(records) == self.batch:  # probably more: read the next batch while this one is in flight
                following = records[-1].global_position
                self._ahead = (following, await self._read(following, connection))
        except BaseException:
            publishing.cancel()
            raise
        sent = await publishing
        self._note_sent(batch.sending[:sent])
        acknowledged = batch.reached(sent)
        if acknowledged and self.before_checkpoint is not None:
            self.before_checkpoint(records[:acknowledged])
        if acknowledged:
            reached = records[acknowledged - 1].global_position
            await write_checkpoint(connection, schema, CHECKPOINT, reached)
            if self._held is not None:
                self._held = reached
            self.published += acknowledged
            last = records[acknowledged - 1]
            fields = {"event_id": str(last.event_id)}
            log.debug(
                "relay of %s published %d events up to %s",
                schema,
                acknowledged,
                last.event_type,
                extra={"fields": fields},
            )
        if acknowledged < len(records):
            raise ConnectionError(f"published {acknowledged} of {len(records)} events; restarting from the first")
        return acknowledged

    def _note_sent(self, records: list[RecordedEvent]) -> None:
        if len(self._sent) > SENT_REMEMBERED:
            self._sent.clear()
        for record in records:
            if record.stream_version > self._sent.get(record.stream_id, 0):
                self._sent[record.stream_id] = record.stream_version

    async def _read(self, after: GlobalPosition, connection: asyncpg.Connection) -> Batch:
        """The batch after ``after``, and the versions of its streams that it lacks and global order puts later."""
        records = await self.store.read_all(after, self.batch, connection=connection)
        if not records:
            return Batch(records, records)
        late = await self.store.late_versions(
            missing_versions(records, self._sent), records[-1].global_position, connection=connection
        )
        return Batch(records, in_stream_order(records, late))

    async def _publish(self, records: list[RecordedEvent]) -> int:
        """Publish with up to ``in_flight`` acks outstanding; returns the length of the acknowledged prefix."""
        acks: list[asyncio.Future[Any]] = []
        try:
            for record in records:
                if len(acks) >= self.in_flight and not await self._acknowledged(acks[len(acks) - self.in_flight]):
                    break
                subject, headers = bus.subject(self.prefix, self.store.schema, record.event_type), event_headers(record)
                span = tracing.publishing(self.store.schema, subject, str(record.event_id), record.stream_id, headers)
                try:
                    ack = await self.js.publish_async(subject, record.data.encode(), headers=headers)
                except Exception as error:
                    tracing.sent(span, error)
                    raise
                tracing.sent(span, ack)
                acks.append(ack)
            if acks:
                await asyncio.wait(acks, timeout=PUBLISH_TIMEOUT)
        except Exception as error:
            failed = records[len(acks)] if len(acks) < len(records) else None
            fields = {"event_id": str(failed.event_id)} if failed else {}
            log.debug("publishing from %s failed: %s", self.store.schema, error, extra={"fields": fields})
        finally:
            for ack in acks:
                ack.cancel()  # frees its slot in the JetStream context when it never came
        acknowledged = [not ack.cancelled() and ack.exception() is None for ack in acks]  # retrieves every error
        return acknowledged.index(False) if False in acknowledged else len(acknowledged)

    @staticmethod
    async def _acknowledged(ack: asyncio.Future[Any]) -> bool:
        """Wait (bounded) for one publish's ack; False if it failed or did not come."""
        if not ack.done():
            await asyncio.wait([ack], timeout=PUBLISH_TIMEOUT)
        return ack.done() and not ack.cancelled() and ack.exception() is None
