"""The outbox relay: a service's committed events, in global order, to its JetStream stream.

One relay per service is active at a time: it holds a session advisory lock on a dedicated connection
(asyncpg's pool would silently release it), writes its checkpoint on that connection only after the
publishes acknowledge, and on any error there lets go and contends again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import zlib
from collections.abc import Callable

import asyncpg
import msgspec
from nats.js import JetStreamContext

from shared import bus
from shared.eventstore import EventStore, GlobalPosition, RecordedEvent
from shared.projection import read_checkpoint, write_checkpoint

log = logging.getLogger("gotong.relay")
CHECKPOINT = "relay"
_encoder = msgspec.json.Encoder()


def relay_lock_key(database: str, schema: str) -> int:
    return zlib.crc32(f"{database}:{schema}:relay".encode()) & 0x7FFF_FFFF


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
    }


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

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Contend for the relay lock forever; publish while holding it."""
        backoff = 0.1
        while True:
            try:
                await self._hold_and_publish()
                backoff = 0.1
            except asyncio.CancelledError:
                raise
            except Exception as error:  # any failure: release the lock, contend again
                log.warning("relay of %s stopped: %s", self.store.schema, error)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
            finally:
                self.active = False

    async def _hold_and_publish(self) -> None:
        connection: asyncpg.Connection = await asyncpg.connect(
            self.database_url, server_settings={"application_name": f"gotong-relay-{self.store.schema}"}
        )
        try:
            database = await connection.fetchval("SELECT current_database()")
            key = relay_lock_key(database, self.store.schema)
            while not await connection.fetchval("SELECT pg_try_advisory_lock($1)", key):
                await self._sleep()
            self.active = True
            log.info("relay of %s is active", self.store.schema)
            while True:
                self._wake.clear()
                if not await self.publish_batch(connection):
                    await self._sleep()
        finally:
            with contextlib.suppress(Exception):
                await connection.close(timeout=2)

    async def _sleep(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), self.poll_seconds)

    async def publish_batch(self, connection: asyncpg.Connection) -> int:
        """Publish the next batch, pipelined; checkpoint the acknowledged prefix. Returns events published."""
        schema = self.store.schema
        after = await read_checkpoint(connection, schema, CHECKPOINT)
        records = await self.store.read_all(after, self.batch, connection=connection)
        if not records:
            return 0
        acknowledged = await self._publish(records)
        if acknowledged and self.before_checkpoint is not None:
            self.before_checkpoint(records[:acknowledged])
        if acknowledged:
            last = records[acknowledged - 1]
            await write_checkpoint(connection, schema, CHECKPOINT, GlobalPosition(last.transaction_id, last.position))
            self.published += acknowledged
        if acknowledged < len(records):
            raise ConnectionError(f"published {acknowledged} of {len(records)} events; restarting from the first")
        return acknowledged

    async def _publish(self, records: list[RecordedEvent]) -> int:
        """Publish with many acks in flight; returns the length of the acknowledged prefix."""
        window = asyncio.Semaphore(self.in_flight)

        async def one(record: RecordedEvent) -> bool:
            async with window:
                try:
                    await self.js.publish(
                        bus.subject(self.prefix, self.store.schema, record.event_type),
                        record.data.encode(),
                        headers=event_headers(record),
                        timeout=5,
                    )
                    return True
                except Exception as error:
                    log.debug("publish of %s failed: %s", record.event_id, error)
                    return False

        results = await asyncio.gather(*(one(r) for r in records))
        prefix = 0
        for ok in results:
            if not ok:
                break
            prefix += 1
        return prefix
