"""Handling another service's event exactly once, in its stream's order: the inbox.

Each event is handled in one PostgreSQL transaction together with its inbox row and the per-stream version it
reached. A duplicate is skipped; an event that arrives before its predecessor raises ``Early``; a handler that
keeps failing sends the event to the dead-letter table, from which it can be replayed. A subscription whose
handler does not depend on its streams' order (``Subscription.ordered``) has its events handled once each, by their
inbox rows, as they come.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec
from nats.aio.msg import Msg

from events.base import Event, EventCodec
from shared import bus, logs, tracing
from shared.database import borrowed
from shared.eventstore import Connection, EventStore, Metadata

log = logging.getLogger("gotong.consumer")

_metadata = msgspec.json.Decoder(Metadata)


class Delivery(msgspec.Struct, frozen=True, kw_only=True):
    """An event received from another service, with where it came from. A struct, not a dataclass: a consumer
    makes one per message, and a frozen dataclass takes ten times as long to build."""

    event: Event
    event_id: UUID
    stream_id: str
    stream_version: int
    position: int
    metadata: Metadata
    recorded_at: datetime
    source: str
    traceparent: str | None = None
    """The W3C trace context the message came with (the publisher's span), if any."""
    tracestate: str | None = None

    def caused(self, actor: str) -> Metadata:
        """Metadata for what this event causes: same correlation, caused by this event, in the same trace (under
        the handler's span: for a batch taken at once, the batch's)."""
        traced = tracing.current()
        return Metadata(
            correlation_id=self.metadata.correlation_id or str(self.event_id),
            causation_id=str(self.event_id),
            actor=actor,
            command_id=f"{actor}:{self.event_id}",
            traceparent=traced.traceparent if traced else self.traceparent,
            tracestate=traced.tracestate if traced else self.tracestate,
        )


@dataclass(frozen=True)
class HandlerContext:
    """What a handler gets: the open transaction and its own service's event store."""

    connection: Connection
    store: EventStore
    consumer: str


Handler = Callable[[HandlerContext, Delivery], Awaitable[None]]
BatchHandler = Callable[[HandlerContext, Sequence[Delivery]], Awaitable[None]]


@dataclass(frozen=True)
class Subscription:
    """A durable subscription of one service to another's events.

    ``handle_many``, when given, takes a fetched batch's deliveries at once (new ones only, each stream's in
    order), so that a handler whose work is a write per event can write the batch in a few set-based
    statements; it must leave what ``handle`` on each delivery in turn would. ``handle`` still takes a redelivery
    or a batch that failed, one event at a time. A batch taken at once is one consumer span in a trace, under
    the publish of its first traced event and linked to the others'; what the handler appends continues it.

    ``ordered=False`` frees the subscription from its streams' order: the inbox takes each event once, by its
    id, in the order it comes, and keeps no stream's progress. Its handler must then leave the same rows whatever
    the order of a stream's events (rows keyed by the event or the stream version, or ``Upserts.upsert``'s
    ``unless_newer``). ``takes``, when given, names the only event types the subscription is sent (JetStream
    filters them): a mirror of a few types is not handed every event of a bulk to ignore. Its streams' versions
    then have gaps where the other types stand, so such a subscription cannot be held to their order.
    """

    name: str
    source: str
    codec: EventCodec
    handle: Handler
    handle_many: BatchHandler | None = None
    ordered: bool = True
    takes: frozenset[str] | None = None

    def __post_init__(self) -> None:
        if self.takes is not None and self.ordered:
            raise ValueError(f"{self.name}: sent only some event types, it cannot be held to its streams' order")


def batch_handlers(handle_many: BatchHandler) -> tuple[Handler, BatchHandler]:
    """A subscription's ``handle`` and ``handle_many`` from a batch handler alone: one event is a batch of one."""

    async def handle(context: HandlerContext, delivery: Delivery) -> None:
        await handle_many(context, [delivery])

    return handle, handle_many


class Early(Exception):
    """The event's predecessor in its stream has not been handled yet."""


class Taken(enum.Enum):
    """What became of one event of a batch."""

    HANDLED = "handled"
    DUPLICATE = "duplicate"  # handled before (or a second copy in the batch), or older than its stream's progress
    EARLY = "early"  # its predecessor is not handled yet (by another replica, say): left for a redelivery


class _Headers(
    msgspec.Struct,
    frozen=True,
    rename={
        "event_type": bus.EVENT_TYPE,
        "schema_version": bus.SCHEMA_VERSION,
        "event_id": bus.EVENT_ID,
        "stream_id": bus.STREAM_ID,
        "stream_version": bus.STREAM_VERSION,
        "position": bus.POSITION,
        "recorded_at": bus.RECORDED_AT,
        "metadata": bus.METADATA,
        "traceparent": tracing.TRACEPARENT,
        "tracestate": tracing.TRACESTATE,
    },
):
    """The headers a relay sets (``shared.relay.event_headers``), read in one pass: parsing each on its own cost
    a consumer more than a third of what NATS takes to deliver the message."""

    event_type: str
    schema_version: int
    event_id: UUID
    stream_id: str
    stream_version: int
    position: int
    recorded_at: datetime
    metadata: str = "{}"
    traceparent: str | None = None
    tracestate: str | None = None


def parse_parts(headers: dict[str, str], data: bytes | str, codec: EventCodec) -> Delivery:
    parts = msgspec.convert(headers, _Headers, strict=False)  # strict=False: numbers, ids and times from text
    return Delivery(
        event=codec.decode(parts.event_type, parts.schema_version, data),
        event_id=parts.event_id,
        stream_id=parts.stream_id,
        stream_version=parts.stream_version,
        position=parts.position,
        metadata=_metadata.decode(parts.metadata),
        recorded_at=parts.recorded_at,
        source=codec.service,
        traceparent=parts.traceparent,
        tracestate=parts.tracestate,
    )


def handling(service: str, consumer: str, delivery: Delivery) -> AbstractContextManager[None]:
    """While a handler takes ``delivery``: its event and flow in the log lines, and its span (a child of the
    publisher's) in the trace when tracing is on; without tracing, only the log lines' context variables."""
    bound = logs.bound(event_id=str(delivery.event_id), correlation_id=delivery.metadata.correlation_id)
    if not tracing.enabled():
        return bound
    return _traced(bound, service, consumer, delivery)


@contextmanager
def _traced(bound: AbstractContextManager[None], service: str, consumer: str, delivery: Delivery) -> Iterator[None]:
    event, event_id = str(delivery.event.__struct_config__.tag), str(delivery.event_id)  # "orders.OrderConfirmed.v1"
    with bound, tracing.consuming(service, consumer, event, event_id, delivery.traceparent, delivery.tracestate):
        yield


async def _take(context: HandlerContext, subscription: Subscription, delivery: Delivery) -> None:
    """Run the subscription's handler on ``delivery`` in ``context``'s transaction."""
    with handling(context.store.schema, subscription.name, delivery):
        await subscription.handle(context, delivery)
        log.debug("%s took %s", subscription.name, delivery.event.__struct_config__.tag)


async def _take_many(context: HandlerContext, handle_many: BatchHandler, name: str, taken: list[Delivery]) -> None:
    """Run a subscription's batch handler on ``taken``: its log lines name the batch's first event, its span (when
    tracing is on) is a child of the first traced event's publish linked to the others', and the debug log tells
    each event taken, as for a handler that takes one at a time."""
    first = taken[0]
    traced = [(d.traceparent, d.tracestate) for d in taken if d.traceparent] if tracing.enabled() else []
    with (
        logs.bound(event_id=str(first.event_id), correlation_id=first.metadata.correlation_id),
        tracing.consuming_batch(context.store.schema, name, len(taken), traced),
    ):
        await handle_many(context, taken)
    if log.isEnabledFor(logging.DEBUG):
        for delivery in taken:
            with logs.bound(event_id=str(delivery.event_id), correlation_id=delivery.metadata.correlation_id):
                log.debug("%s took %s", name, delivery.event.__struct_config__.tag)


async def handle_once(pool: asyncpg.Pool, store: EventStore, subscription: Subscription, delivery: Delivery) -> bool:
    """Handle ``delivery`` exactly once; False when it was a duplicate. Raises ``Early`` when out of order."""
    schema, appended, consumer = store.schema, store.appended, subscription.name
    async with borrowed(pool) as connection, connection.transaction():
        inserted = await connection.fetchval(
            f"INSERT INTO {schema}.inbox (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING true",
            consumer,
            delivery.event_id,
        )
        if not inserted:
            return False
        if subscription.ordered:
            last = await connection.fetchval(
                f"SELECT version FROM {schema}.stream_progress WHERE consumer = $1 AND stream_id = $2 FOR UPDATE",
                consumer,
                delivery.stream_id,
            )
            last = last or 0
            if delivery.stream_version <= last:
                return False
            if delivery.stream_version > last + 1:
                raise Early(f"{delivery.stream_id} v{delivery.stream_version} arrived before v{last + 1}")
        await _take(HandlerContext(connection, store, consumer), subscription, delivery)
        if subscription.ordered:
            await connection.execute(
                f"INSERT INTO {schema}.stream_progress (consumer, stream_id, version) VALUES ($1, $2, $3) "
                "ON CONFLICT (consumer, stream_id) DO UPDATE SET version = GREATEST(stream_progress.version, $3)",
                consumer,
                delivery.stream_id,
                delivery.stream_version,
            )
    if store.appended != appended:
        store.committed()  # the handler appended to this service's store (or a command did meanwhile)
    return True


async def handle_batch(
    pool: asyncpg.Pool,
    store: EventStore,
    subscription: Subscription,
    deliveries: Sequence[Delivery],
) -> list[Taken]:
    """``handle_once`` of each delivery in turn, in one transaction: a handler's error undoes them all.

    An event that arrives before its predecessor (with its stream's later ones in the batch) is left out and
    reported early, for the consumer to have it redelivered, while the rest of the batch is handled: replicas
    sharing a consumer fetch alternate batches, so a stream's next event is often in the other replica's.

    The inbox rows are written and the streams' progress read in one statement, and the progress written in
    another, for the whole batch: on a busy machine each round trip to PostgreSQL costs a batch a millisecond.
    A subscription not held to its streams' order has no progress read or written.
    """
    schema, consumer, appended, ordered = store.schema, subscription.name, store.appended, subscription.ordered
    async with borrowed(pool) as connection, connection.transaction():
        # Inbox rows first, then the progress rows, each locked in one order by every replica.
        rows = await connection.fetch(
            f"WITH new AS (INSERT INTO {schema}.inbox (consumer, event_id) SELECT $1, unnest($2::uuid[]) "
            "ON CONFLICT DO NOTHING RETURNING event_id), "
            f"progress AS (SELECT stream_id, version FROM {schema}.stream_progress "
            "WHERE consumer = $1 AND stream_id = ANY($3) ORDER BY stream_id FOR UPDATE) "
            "SELECT event_id, NULL AS stream_id, NULL AS version FROM new "
            "UNION ALL SELECT NULL, stream_id, version FROM progress",
            consumer,
            sorted({delivery.event_id for delivery in deliveries}),
            sorted({delivery.stream_id for delivery in deliveries}) if ordered else [],
        )
        new = {row["event_id"] for row in rows if row["event_id"] is not None}
        progress: dict[str, int] = {row["stream_id"]: row["version"] for row in rows if row["stream_id"] is not None}
        reached: dict[str, int] = {}
        waiting: set[str] = set()  # streams with an early event in this batch: their later ones wait too
        taken: list[Delivery] = []
        outcomes: list[Taken] = []
        for delivery in deliveries:
            if delivery.event_id not in new:
                outcomes.append(Taken.DUPLICATE)
                continue
            new.discard(delivery.event_id)  # a second copy in the same batch is a duplicate
            last = progress.get(delivery.stream_id, 0)
            if ordered and delivery.stream_version <= last:
                outcomes.append(Taken.DUPLICATE)
                continue
            if ordered and (delivery.stream_version > last + 1 or delivery.stream_id in waiting):
                waiting.add(delivery.stream_id)
                outcomes.append(Taken.EARLY)
                continue
            taken.append(delivery)
            if ordered:
                progress[delivery.stream_id] = reached[delivery.stream_id] = max(last, delivery.stream_version)
            outcomes.append(Taken.HANDLED)
        early = [d.event_id for d, outcome in zip(deliveries, outcomes, strict=True) if outcome is Taken.EARLY]
        if early:  # not handled: their redelivery must not find them in the inbox
            await connection.execute(
                f"DELETE FROM {schema}.inbox WHERE consumer = $1 AND event_id = ANY($2::uuid[])", consumer, early
            )
        context = HandlerContext(connection, store, consumer)
        if subscription.handle_many is not None and taken:
            await _take_many(context, subscription.handle_many, subscription.name, taken)
        else:
            for delivery in taken:
                await _take(context, subscription, delivery)
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
    if store.appended != appended:
        store.committed()
    return outcomes


async def dead_letter(
    pool: asyncpg.Pool, schema: str, subscription: Subscription, msg: Msg, error: BaseException, failures: int
) -> None:
    """Park a poison event that failed its handler ``failures`` times, and mark it handled so its stream's
    later events can proceed (for a subscription held to its streams' order)."""
    consumer = subscription.name
    headers = dict(msg.headers or {})
    try:
        event_id = UUID(headers.get(bus.EVENT_ID, ""))
    except ValueError:  # a message no relay wrote: park it all the same, under the nil id
        event_id = UUID(int=0)
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
        if subscription.ordered and bus.STREAM_ID in headers:
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
        await _take(HandlerContext(connection, store, subscription.name), subscription, delivery)
        await connection.execute(f"UPDATE {schema}.dead_letters SET replayed_at = now() WHERE id = $1", letter_id)
    store.committed()
    return True
