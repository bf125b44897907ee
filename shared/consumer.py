"""Consumers of another service's events: durable pull consumers with an inbox, in aggregate order.

Each event is handled in one PostgreSQL transaction together with its inbox row and the per-stream
version it reached; the message is acknowledged after the commit. A duplicate is acknowledged and skipped;
an event that arrives before its predecessor is nak'd with a delay; a handler that keeps failing sends
the event to the dead-letter table.

Only the handler's own failures count towards the dead letter. When PostgreSQL or NATS is away, the
consumer keeps the messages it holds (telling JetStream they are in progress) and tries them again, with
backoff, until both are back: an outage never dead-letters a healthy event, and never leaves a message to
wait out its ack wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from events.base import Event, EventCodec
from shared import bus
from shared.eventstore import Connection, EventStore, Metadata
from shared.outages import Backoff, is_outage

log = logging.getLogger("gotong.consumer")
WAITING_SECONDS = 0.002  # how long a fetch for more messages after the first may linger
ACK_WAIT_SECONDS = 30.0  # JetStream redelivers a message not acknowledged within this
MAX_REMEMBERED_FAILURES = 10_000  # events whose handler failures a consumer counts at once
IN_PROGRESS_SECONDS = 5.0  # how often messages held through an outage or a long batch are reported in progress
_metadata = msgspec.json.Decoder(Metadata)


@dataclass(frozen=True)
class Delivery:
    """An event received from another service, with where it came from."""

    event: Event
    event_id: UUID
    stream_id: str
    stream_version: int
    position: int
    metadata: Metadata
    recorded_at: datetime
    source: str

    def caused(self, actor: str) -> Metadata:
        """Metadata for what this event causes: same correlation, caused by this event."""
        return Metadata(
            correlation_id=self.metadata.correlation_id or str(self.event_id),
            causation_id=str(self.event_id),
            actor=actor,
            command_id=f"{actor}:{self.event_id}",
        )


@dataclass(frozen=True)
class HandlerContext:
    """What a handler gets: the open transaction and its own service's event store."""

    connection: Connection
    store: EventStore
    consumer: str


Handler = Callable[[HandlerContext, Delivery], Awaitable[None]]


@dataclass(frozen=True)
class Subscription:
    """A durable subscription of one service to another's events."""

    name: str
    source: str
    codec: EventCodec
    handle: Handler


class Early(Exception):
    """The event's predecessor in its stream has not been handled yet."""


def parse(msg: Msg, codec: EventCodec) -> Delivery:
    return parse_parts(msg.headers or {}, msg.data, codec)


def parse_parts(headers: dict[str, str], data: bytes | str, codec: EventCodec) -> Delivery:
    return Delivery(
        event=codec.decode(headers[bus.EVENT_TYPE], int(headers[bus.SCHEMA_VERSION]), data),
        event_id=UUID(headers[bus.EVENT_ID]),
        stream_id=headers[bus.STREAM_ID],
        stream_version=int(headers[bus.STREAM_VERSION]),
        position=int(headers[bus.POSITION]),
        metadata=_metadata.decode(headers.get(bus.METADATA, "{}")),
        recorded_at=datetime.fromisoformat(headers[bus.RECORDED_AT]),
        source=codec.service,
    )


async def handle_once(
    pool: asyncpg.Pool, store: EventStore, subscription: Subscription, delivery: Delivery, *, ordered: bool = True
) -> bool:
    """Handle ``delivery`` exactly once; False when it was a duplicate. Raises ``Early`` when out of order."""
    schema = store.schema
    async with pool.acquire() as connection, connection.transaction():
        inserted = await connection.fetchval(
            f"INSERT INTO {schema}.inbox (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING true",
            subscription.name,
            delivery.event_id,
        )
        if not inserted:
            return False
        last = await connection.fetchval(
            f"SELECT version FROM {schema}.stream_progress WHERE consumer = $1 AND stream_id = $2 FOR UPDATE",
            subscription.name,
            delivery.stream_id,
        )
        last = last or 0
        if ordered and delivery.stream_version <= last:
            return False
        if ordered and delivery.stream_version > last + 1:
            raise Early(f"{delivery.stream_id} v{delivery.stream_version} arrived before v{last + 1}")
        await subscription.handle(HandlerContext(connection, store, subscription.name), delivery)
        await connection.execute(
            f"INSERT INTO {schema}.stream_progress (consumer, stream_id, version) VALUES ($1, $2, $3) "
            "ON CONFLICT (consumer, stream_id) DO UPDATE SET version = GREATEST(stream_progress.version, $3)",
            subscription.name,
            delivery.stream_id,
            delivery.stream_version,
        )
    store.committed()  # the handler may have appended to this service's store
    return True


async def handle_batch(
    pool: asyncpg.Pool,
    store: EventStore,
    subscription: Subscription,
    deliveries: Sequence[Delivery],
    *,
    ordered: bool = True,
) -> list[bool]:
    """``handle_once`` of each delivery in turn, in one transaction: any error (``Early`` too) undoes them all.

    The inbox rows and the streams' progress are written and read once for the whole batch.
    """
    schema, consumer = store.schema, subscription.name
    async with pool.acquire() as connection, connection.transaction():
        rows = await connection.fetch(
            f"INSERT INTO {schema}.inbox (consumer, event_id) SELECT $1, unnest($2::uuid[]) "
            "ON CONFLICT DO NOTHING RETURNING event_id",
            consumer,
            sorted({delivery.event_id for delivery in deliveries}),  # rows locked in one order by every replica
        )
        new = {row["event_id"] for row in rows}
        rows = await connection.fetch(
            f"SELECT stream_id, version FROM {schema}.stream_progress WHERE consumer = $1 AND stream_id = ANY($2) "
            "ORDER BY stream_id FOR UPDATE",
            consumer,
            sorted({delivery.stream_id for delivery in deliveries}),
        )
        progress: dict[str, int] = {row["stream_id"]: row["version"] for row in rows}
        reached: dict[str, int] = {}
        handled: list[bool] = []
        for delivery in deliveries:
            if delivery.event_id not in new:
                handled.append(False)
                continue
            new.discard(delivery.event_id)  # a second copy in the same batch is a duplicate
            last = progress.get(delivery.stream_id, 0)
            if ordered and delivery.stream_version <= last:
                handled.append(False)
                continue
            if ordered and delivery.stream_version > last + 1:
                raise Early(f"{delivery.stream_id} v{delivery.stream_version} arrived before v{last + 1}")
            await subscription.handle(HandlerContext(connection, store, consumer), delivery)
            progress[delivery.stream_id] = reached[delivery.stream_id] = max(last, delivery.stream_version)
            handled.append(True)
        if reached:
            streams, versions = zip(*sorted(reached.items()), strict=True)
            await connection.execute(
                f"INSERT INTO {schema}.stream_progress (consumer, stream_id, version) "
                "SELECT $1, * FROM unnest($2::text[], $3::int[]) ON CONFLICT (consumer, stream_id) "
                "DO UPDATE SET version = GREATEST(stream_progress.version, excluded.version)",
                consumer,
                streams,
                versions,
            )
    if any(handled):
        store.committed()
    return handled


async def dead_letter(
    pool: asyncpg.Pool, schema: str, consumer: str, msg: Msg, error: BaseException, failures: int
) -> None:
    """Park a poison event that failed its handler ``failures`` times, and mark it handled so its stream's
    later events can proceed."""
    headers = dict(msg.headers or {})
    event_id = UUID(headers.get(bus.EVENT_ID, "00000000-0000-0000-0000-000000000000"))
    async with pool.acquire() as connection, connection.transaction():
        await connection.execute(
            f"INSERT INTO {schema}.dead_letters (consumer, event_id, subject, headers, data, error, deliveries) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7)",
            consumer,
            event_id,
            msg.subject,
            msgspec.json.encode(headers).decode(),
            msg.data.decode(errors="replace"),
            f"{type(error).__name__}: {error}",
            failures,
        )
        await connection.execute(
            f"INSERT INTO {schema}.inbox (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            consumer,
            event_id,
        )
        if bus.STREAM_ID in headers:
            await connection.execute(
                f"INSERT INTO {schema}.stream_progress (consumer, stream_id, version) VALUES ($1, $2, $3) "
                "ON CONFLICT (consumer, stream_id) DO UPDATE SET version = GREATEST(stream_progress.version, $3)",
                consumer,
                headers[bus.STREAM_ID],
                int(headers[bus.STREAM_VERSION]),
            )


async def replay(pool: asyncpg.Pool, store: EventStore, subscription: Subscription, letter_id: int) -> bool:
    """Run a dead letter's handler again, in one transaction; False if it is unknown or already replayed."""
    schema = store.schema
    async with pool.acquire() as connection, connection.transaction():
        row = await connection.fetchrow(
            f"SELECT headers::text AS headers, data FROM {schema}.dead_letters "
            "WHERE id = $1 AND consumer = $2 AND replayed_at IS NULL FOR UPDATE",
            letter_id,
            subscription.name,
        )
        if row is None:
            return False
        headers: dict[str, str] = msgspec.json.decode(row["headers"])
        delivery = parse_parts(headers, row["data"], subscription.codec)
        await subscription.handle(HandlerContext(connection, store, subscription.name), delivery)
        await connection.execute(f"UPDATE {schema}.dead_letters SET replayed_at = now() WHERE id = $1", letter_id)
    store.committed()
    return True


class Consumer:
    """Runs one subscription: fetch, handle in a transaction with the inbox, ack after commit."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        store: EventStore,
        js: JetStreamContext,
        prefix: str,
        subscription: Subscription,
        *,
        max_deliveries: int = 5,
        batch: int = 100,
        backoff: Callable[[int], float] = lambda n: min(0.05 * 2**n, 5.0),
    ) -> None:
        self.pool = pool
        self.store = store
        self.js = js
        self.prefix = prefix
        self.subscription = subscription
        self.max_deliveries = max_deliveries
        self.batch = batch
        self.backoff = backoff
        self.durable = f"{store.schema}-{subscription.name}".replace(".", "-")
        self.stream = bus.stream_name(prefix, subscription.source)
        self.handled = 0
        self.caught_up = asyncio.Event()
        self._target: int | None = None
        self._failures: dict[int, int] = {}  # the handler's own failures, by stream sequence
        self._holding: list[Msg] = []  # messages fetched and not yet acknowledged or nak'd

    async def run(self) -> None:
        """Consume until cancelled. The pull subscription outlives outages of NATS (the client subscribes again
        on reconnect), so what the server sends it in answer to fetches made meanwhile is not lost."""
        backoff = Backoff(f"consumer {self.durable}", log)
        subscription: Any = None
        try:
            while True:
                try:
                    if self._target is None:
                        info = await self.js.stream_info(self.stream)
                        self._target = info.state.last_seq
                        if not self._target:
                            self.caught_up.set()
                    if subscription is None:
                        subscription = await self._subscribe()
                    await self._consume(subscription, backoff)
                except asyncio.CancelledError:
                    raise
                except Exception as error:
                    if not is_outage(error):
                        raise  # a bug: the runtime logs it and starts the consumer again
                    await backoff.wait(error)
        finally:
            if subscription is not None:
                with contextlib.suppress(Exception):
                    await subscription.unsubscribe()

    async def _subscribe(self) -> Any:
        config = ConsumerConfig(
            durable_name=self.durable,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=ACK_WAIT_SECONDS,
            max_deliver=-1,
            max_ack_pending=1000,
        )
        return await self.js.pull_subscribe(
            bus.subject(self.prefix, self.subscription.source), durable=self.durable, stream=self.stream, config=config
        )

    async def _consume(self, subscription: Any, backoff: Backoff) -> None:
        heartbeat = asyncio.create_task(self._report_in_progress(), name=f"in-progress:{self.durable}")
        try:
            while True:
                try:
                    # The first message as soon as it arrives; then those already waiting, without lingering.
                    messages = await subscription.fetch(1, timeout=1)
                except TimeoutError:
                    if self._target is not None and not self.caught_up.is_set():
                        pending = (await subscription.consumer_info()).num_pending
                        if pending == 0:
                            self.caught_up.set()
                    continue
                backoff.succeeded()
                if self.batch > 1:
                    with contextlib.suppress(TimeoutError):
                        messages += await subscription.fetch(self.batch - 1, timeout=WAITING_SECONDS)
                self._holding = messages
                try:
                    await self._process_batch(messages)
                finally:
                    self._holding = []
        finally:
            heartbeat.cancel()

    async def _report_in_progress(self) -> None:
        """Keep JetStream from redelivering what this consumer holds while it waits out an outage."""
        while True:
            await asyncio.sleep(IN_PROGRESS_SECONDS)
            for msg in list(self._holding):
                with contextlib.suppress(Exception):
                    await msg.in_progress()

    async def _process_batch(self, messages: list[Msg]) -> None:
        """Handle the messages in one transaction and ack them after its commit; on any error, one at a time."""
        if len(messages) > 1:
            try:
                deliveries = [parse(msg, self.subscription.codec) for msg in messages]
                await handle_batch(self.pool, self.store, self.subscription, deliveries)
            except Exception as error:
                log.debug("%s: handling %d messages one at a time: %s", self.durable, len(messages), error)
            else:
                await self._until_reachable(lambda: self._ack_all(messages))
                return
        for msg in messages:
            await self._until_reachable(functools.partial(self._process, msg))

    async def _ack_all(self, messages: list[Msg]) -> None:
        outcomes = await asyncio.gather(*(self._ack(msg) for msg in messages), return_exceptions=True)
        for msg, outcome in zip(messages, outcomes, strict=True):
            if outcome is True:
                self._handled(msg)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome  # the others are acknowledged; trying again acknowledges the rest

    async def _ack(self, msg: Msg) -> bool:
        """Acknowledge ``msg`` unless it already was (an ack that landed before an outage cut its answer)."""
        if msg._ackd:
            return False
        await msg.ack_sync()
        return True

    async def _until_reachable(self, attempt: Callable[[], Awaitable[None]]) -> None:
        """Run ``attempt`` until PostgreSQL and NATS let it finish: an outage is waited out, not counted.

        Trying a handled event again is harmless: the inbox makes it a duplicate, which is acknowledged.
        """
        await Backoff(f"consumer {self.durable} (holding {len(self._holding)} messages)", log).retry(attempt)

    async def _process(self, msg: Msg) -> None:
        sequence = msg.metadata.sequence.stream
        try:
            delivery = parse(msg, self.subscription.codec)
            await handle_once(self.pool, self.store, self.subscription, delivery)
        except Early as early:
            log.debug("%s: %s", self.durable, early)
            await msg.nak(delay=self.backoff(min(msg.metadata.num_delivered or 1, 6)))
            return
        except Exception as error:
            if is_outage(error):
                raise
            if len(self._failures) > MAX_REMEMBERED_FAILURES:
                self._failures.clear()  # events retried by other replicas meanwhile; forgetting costs retries
            failures = self._failures[sequence] = self._failures.get(sequence, 0) + 1
            if failures >= self.max_deliveries:
                log.error("%s: dead-lettering %s after %d failures: %s", self.durable, msg.subject, failures, error)
                await dead_letter(self.pool, self.store.schema, self.subscription.name, msg, error, failures)
                await self._ack(msg)
                self._failures.pop(sequence, None)
            else:
                log.warning("%s: handler failed (try %d): %s", self.durable, failures, error)
                await msg.nak(delay=self.backoff(failures))
            return
        self._failures.pop(sequence, None)
        if await self._ack(msg):
            self._handled(msg)

    def _handled(self, msg: Msg) -> None:
        self.handled += 1
        if self._target is not None and msg.metadata.sequence.stream >= self._target:
            self.caught_up.set()
