"""The bus's fast paths: reading everything by index, the relay reading ahead, consumers handling batches."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import asyncpg
import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg

from shared import bus
from shared.config import Settings
from shared.consumer import Consumer
from shared.eventstore import START, EventStore, RecordedEvent, StreamAppend
from shared.inbox import Delivery, Subscription, Taken, handle_batch, handle_once, parse_parts
from shared.migrations import migrate
from shared.projection import read_checkpoint
from shared.relay import CHECKPOINT, Relay, event_headers
from tests.support.audit_service import POISON, audit_service, record_many
from tests.support.ledger import CODEC, Deposited, Opened
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

SUBSCRIPTION = audit_service.subscriptions[0]
BATCHED = replace(SUBSCRIPTION, handle_many=record_many)  # the same consumer, taking a batch at once
HANDLED, DUPLICATE, EARLY = Taken.HANDLED, Taken.DUPLICATE, Taken.EARLY


@pytest.fixture
async def stores(pool: asyncpg.Pool) -> tuple[EventStore, EventStore]:
    async with pool.acquire() as connection:
        await migrate(connection, "ledger", [])
        await migrate(connection, "audit", audit_service.migrations)
    return EventStore(pool, "ledger", CODEC), EventStore(pool, "audit", audit_service.codec)


async def deliveries(store: EventStore, stream_id: str) -> list[Delivery]:
    return [parse_parts(event_headers(r), r.data, CODEC) for r in await store.read_stream(stream_id)]


async def seen(pool: asyncpg.Pool) -> list[tuple[str, int]]:
    rows = await pool.fetch("SELECT stream_id, version FROM audit.seen ORDER BY n")
    return [(r["stream_id"], r["version"]) for r in rows]


async def test_reading_everything_walks_the_global_order_index_without_sorting(
    stores: tuple[EventStore, EventStore], pool: asyncpg.Pool
) -> None:
    ledger, _ = stores
    async with pool.acquire() as connection, connection.transaction():
        for method in ("seqscan", "bitmapscan", "sort"):  # as on a large table: only an index order will do
            await connection.execute(f"SET LOCAL enable_{method} = off")
        rows = await connection.fetch(f"EXPLAIN {ledger._read_all_sql}", "0", 0, 100)
    plan = "\n".join(row[0] for row in rows)
    assert "events_global_order" in plan
    assert "Sort" not in plan, "the whole table would be sorted on every read"


async def test_looking_past_the_horizon_walks_the_index_even_where_a_scan_looks_cheap(
    stores: tuple[EventStore, EventStore], pool: asyncpg.Pool
) -> None:
    ledger, _ = stores
    for first in range(0, 5000, 100):  # 10,000 events in 50 transactions, the newest at the table's end
        await ledger.append_many(
            [
                StreamAppend(f"s{n}", "account", 0, [Opened(owner="x"), Deposited(amount=n)])
                for n in range(first, first + 100)
            ]
        )
    await pool.execute("ANALYZE ledger.events")
    records = await ledger.read_all(START, limit=10_000)
    behind = records[7_500].global_position  # a quarter of the table after it: a scan "would soon find one"
    async with pool.acquire() as connection:
        rows = await connection.fetch(
            f"EXPLAIN {ledger._committed_after_sql}", str(behind.transaction_id), behind.position
        )
    plan = "\n".join(row[0] for row in rows)
    assert "events_global_order" in plan, "a scan from the table's start finds the newest events last"
    assert await ledger.committed_after(behind)
    assert not await ledger.committed_after(records[-1].global_position)


@pytest.mark.parametrize("subscription", [SUBSCRIPTION, BATCHED], ids=["one at a time", "at once"])
async def test_a_batch_handles_each_event_once_in_stream_order(
    stores: tuple[EventStore, EventStore], pool: asyncpg.Pool, subscription: Subscription
) -> None:
    ledger, audit = stores
    await ledger.append("a", "account", 0, [Opened(owner="a"), Deposited(amount=1), Deposited(amount=2)])
    await ledger.append("b", "account", 0, [Opened(owner="b"), Deposited(amount=1)])
    a1, a2, a3 = await deliveries(ledger, "a")
    b1, b2 = await deliveries(ledger, "b")
    assert await handle_once(pool, audit, subscription, a1)

    handled = await handle_batch(pool, audit, subscription, [a1, b1, a2, b1, b2, a3])
    assert handled == [DUPLICATE, HANDLED, HANDLED, DUPLICATE, HANDLED, HANDLED], "a1 came before, b1 comes twice"
    assert await seen(pool) == [("a", 1), ("b", 1), ("a", 2), ("b", 2), ("a", 3)]
    assert await handle_batch(pool, audit, subscription, [a3, b2]) == [DUPLICATE, DUPLICATE]
    progress = await pool.fetch("SELECT stream_id, version FROM audit.stream_progress ORDER BY stream_id")
    assert [(r["stream_id"], r["version"]) for r in progress] == [("a", 3), ("b", 2)]


@pytest.mark.parametrize("subscription", [SUBSCRIPTION, BATCHED], ids=["one at a time", "at once"])
async def test_an_early_event_waits_with_its_streams_later_ones_while_the_rest_of_the_batch_is_handled(
    stores: tuple[EventStore, EventStore], pool: asyncpg.Pool, subscription: Subscription
) -> None:
    """As when another replica holds a2: a3 and a4 wait, b goes on; once a2 is handled, a3 and a4 follow."""
    ledger, audit = stores
    await ledger.append("a", "account", 0, [Opened(owner="a"), *[Deposited(amount=n) for n in (1, 2, 3)]])
    await ledger.append("b", "account", 0, [Opened(owner="b"), Deposited(amount=1)])
    a1, a2, a3, a4 = await deliveries(ledger, "a")
    b1, b2 = await deliveries(ledger, "b")

    assert await handle_batch(pool, audit, subscription, [a1, a3, b1, a4, b2]) == [
        HANDLED, EARLY, HANDLED, EARLY, HANDLED,
    ]  # fmt: skip
    assert await seen(pool) == [("a", 1), ("b", 1), ("b", 2)]
    assert await handle_batch(pool, audit, subscription, [a2]) == [HANDLED]
    assert await handle_batch(pool, audit, subscription, [a3, a4, b2]) == [HANDLED, HANDLED, DUPLICATE]
    assert await seen(pool) == [("a", 1), ("b", 1), ("b", 2), ("a", 2), ("a", 3), ("a", 4)]


@pytest.mark.parametrize("subscription", [SUBSCRIPTION, BATCHED], ids=["one at a time", "at once"])
async def test_a_failing_handler_undoes_the_whole_batch(
    stores: tuple[EventStore, EventStore], pool: asyncpg.Pool, subscription: Subscription
) -> None:
    ledger, audit = stores
    await ledger.append("a", "account", 0, [Opened(owner="a"), Deposited(amount=1)])
    await ledger.append("p", "account", 0, [Opened(owner="p"), Deposited(amount=POISON)])
    a1, _ = await deliveries(ledger, "a")
    p1, p2 = await deliveries(ledger, "p")

    with pytest.raises(ValueError, match="refused until cured"):
        await handle_batch(pool, audit, subscription, [a1, p1, p2])
    assert await seen(pool) == []
    assert await pool.fetchval("SELECT count(*) FROM audit.inbox") == 0
    assert await pool.fetchval("SELECT count(*) FROM audit.stream_progress") == 0


async def test_a_consumer_with_a_backlog_handles_everything_once_and_parks_the_poison(
    stores: tuple[EventStore, EventStore], pool: asyncpg.Pool, settings: Settings, nats_client: Client
) -> None:
    ledger, audit = stores
    for n in range(30):
        amount = POISON if n == 7 else 100 + n
        await ledger.append(f"s{n}", "account", 0, [Opened(owner="x"), Deposited(amount=amount), Deposited(amount=1)])
    js = nats_client.jetstream()
    await bus.ensure_stream(js, settings, "ledger")
    async with pool.acquire() as connection:
        relay = Relay(ledger, settings.database_url or "", js, settings.nats_prefix, batch=40)
        while await relay.publish_batch(connection):
            pass
    consumer = Consumer(pool, audit, js, settings.nats_prefix, SUBSCRIPTION, max_deliveries=2, backoff=lambda _: 0.05)
    task = asyncio.create_task(consumer.run())
    try:
        await eventually(lambda: _count(pool, 89))
        assert await consumer.caught_up.wait()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    rows = await seen(pool)
    assert len(rows) == len(set(rows)) == 89
    for n in range(30):
        versions = [v for s, v in rows if s == f"s{n}"]
        assert versions == ([1, 3] if n == 7 else [1, 2, 3]), f"stream s{n}"
    letters = await pool.fetch("SELECT headers->>'Gotong-Stream-Id' AS stream_id FROM audit.dead_letters")
    assert [r["stream_id"] for r in letters] == ["s7"]


async def _count(pool: asyncpg.Pool, expected: int) -> bool:
    return len(await seen(pool)) >= expected


async def test_a_relay_reads_ahead_and_publishes_batch_after_batch_in_order(
    stores: tuple[EventStore, EventStore], pool: asyncpg.Pool, settings: Settings, nats_client: Client
) -> None:
    ledger, _ = stores
    for n in range(11):
        await ledger.append(f"r{n}", "account", 0, [Opened(owner="x"), Deposited(amount=n)])
    js = nats_client.jetstream()
    await bus.ensure_stream(js, settings, "ledger")
    relay = Relay(ledger, settings.database_url or "", js, settings.nats_prefix, batch=5, in_flight=2)
    connection: asyncpg.Connection = await asyncpg.connect(settings.database_url)
    try:
        published = [await relay.publish_batch(connection) for _ in range(6)]
        checkpoint = await read_checkpoint(connection, "ledger", CHECKPOINT)
    finally:
        await connection.close()
    assert published == [5, 5, 5, 5, 2, 0]
    records = await ledger.read_all(START)
    assert checkpoint == records[-1].global_position
    stream = bus.stream_name(settings.nats_prefix, "ledger")
    stored = [await js.get_msg(stream, sequence) for sequence in range(1, 23)]
    assert [(m.headers or {})[bus.EVENT_ID] for m in stored] == [str(r.event_id) for r in records]


async def test_an_unacknowledged_publish_is_not_checkpointed(
    stores: tuple[EventStore, EventStore], settings: Settings, nats_client: Client
) -> None:
    ledger, _ = stores
    await ledger.append("lost", "account", 0, [Opened(owner="x"), Deposited(amount=1)])
    js = nats_client.jetstream()  # no stream for this prefix: nobody acknowledges
    relay = Relay(ledger, settings.database_url or "", js, settings.nats_prefix)
    connection: asyncpg.Connection = await asyncpg.connect(settings.database_url)
    try:
        with pytest.raises(ConnectionError, match="published 0 of 2"):
            await relay.publish_batch(connection)
        assert await read_checkpoint(connection, "ledger", CHECKPOINT) == START
    finally:
        await connection.close()
    assert relay.published == 0


async def test_a_relay_looks_again_soon_at_events_held_back_by_an_older_transaction(
    stores: tuple[EventStore, EventStore], pool: asyncpg.Pool, settings: Settings, nats_client: Client
) -> None:
    ledger, _ = stores
    js = nats_client.jetstream()
    await bus.ensure_stream(js, settings, "ledger")
    relay = Relay(ledger, settings.database_url or "", js, settings.nats_prefix, poll_seconds=60)
    task = asyncio.create_task(relay.run())
    older = await pool.acquire()
    try:
        await eventually(lambda: _active(relay))
        transaction = older.transaction()
        await transaction.start()
        await older.execute("SELECT pg_current_xact_id()")  # an open transaction older than the event
        await ledger.append("held", "account", 0, [Opened(owner="x")])
        relay.wake()  # as its NOTIFY would, while the event is still held back
        await asyncio.sleep(0.2)
        assert relay.published == 0
        assert await ledger.committed_after(START), "committed, yet behind the horizon"
        await transaction.commit()  # no event and no NOTIFY: only the relay's own second look finds it
        await eventually(lambda: _published(relay, 1), timeout=5)
    finally:
        await pool.release(older)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _active(relay: Relay) -> bool:
    return relay.active


async def _published(relay: Relay, count: int) -> bool:
    return relay.published >= count


class StalledAcks(Consumer):
    """A consumer whose batches' acks wait until released, as they do while NATS is away."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.held = asyncio.Event()
        self.released = asyncio.Event()

    async def _ack_all(self, messages: list[Msg]) -> None:
        if len(messages) > 1:  # a batch's, sent while the next batch is handled; a single message's are not
            self.held.set()
            await self.released.wait()
        await super()._ack_all(messages)


async def test_a_consumer_stopped_while_acknowledging_acknowledges_again_once_started_again(
    stores: tuple[EventStore, EventStore], pool: asyncpg.Pool, settings: Settings, nats_client: Client
) -> None:
    ledger, audit = stores
    js = nats_client.jetstream()
    await bus.ensure_stream(js, settings, "ledger")
    consumer = StalledAcks(pool, audit, js, settings.nats_prefix, SUBSCRIPTION)

    async def publish(streams: range) -> None:
        await ledger.append_many([StreamAppend(f"s{n}", "account", 0, [Opened(owner="x")]) for n in streams])
        async with pool.acquire() as connection:
            relay = Relay(ledger, settings.database_url or "", js, settings.nats_prefix)
            while await relay.publish_batch(connection):
                pass

    await publish(range(10))
    task = asyncio.create_task(consumer.run())
    await eventually(lambda: _count(pool, 10))  # handled and committed
    await asyncio.wait_for(consumer.held.wait(), 5)  # a batch among them, its acks held
    task.cancel()  # as the runtime stops it, or a bug does before it starts it again
    await asyncio.gather(task, return_exceptions=True)
    consumer.released.set()
    await publish(range(10, 20))
    task = asyncio.create_task(consumer.run())
    try:
        await eventually(lambda: _acknowledged(consumer, 10))  # the new batches' acks wait on no stopped one
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert len(await seen(pool)) == 20


async def _acknowledged(consumer: Consumer, count: int) -> bool:
    return consumer.handled >= count


async def test_a_relay_sends_a_stream_version_that_global_order_puts_later_ahead_of_the_next(
    stores: tuple[EventStore, EventStore], pool: asyncpg.Pool, settings: Settings, nats_client: Client
) -> None:
    """A handler's transaction takes its id (its inbox row) before the pool's lock, waits while a command
    appends the pool's version 1, then appends version 2: global order puts version 2 first, and an open older
    transaction holds version 1 back from ``read_all``. The relay sends version 1 ahead, and once more later."""
    ledger, _ = stores
    js = nats_client.jetstream()
    await bus.ensure_stream(js, settings, "ledger")
    handler, older = await pool.acquire(), await pool.acquire()
    try:
        handling = handler.transaction()
        await handling.start()
        await handler.execute("SELECT pg_current_xact_id()")
        holding = older.transaction()
        await holding.start()
        await older.execute("SELECT pg_current_xact_id()")
        await ledger.append("pool", "account", 0, [Opened(owner="aggregator")])
        await ledger.append("pool", "account", 1, [Deposited(amount=5)], connection=handler)
        await handling.commit()
        relay = Relay(ledger, settings.database_url or "", js, settings.nats_prefix)
        async with pool.acquire() as connection:
            assert await relay.publish_batch(connection) == 1, "version 2 alone is below the horizon"
            await holding.commit()
            assert await relay.publish_batch(connection) == 1, "version 1, reached in global order"
            assert await relay.publish_batch(connection) == 0
            checkpoint = await read_checkpoint(connection, "ledger", CHECKPOINT)
    finally:
        await pool.release(handler)
        await pool.release(older)
    first, second = await ledger.read_stream("pool")
    assert checkpoint == first.global_position > second.global_position
    stream = bus.stream_name(settings.nats_prefix, "ledger")
    assert (await js.stream_info(stream)).state.messages == 2, "the second copy fell in the duplicate window"
    stored = [await js.get_msg(stream, sequence) for sequence in (1, 2)]
    assert [(m.headers or {})[bus.STREAM_VERSION] for m in stored] == ["1", "2"]


async def test_a_consumer_has_an_early_event_redelivered_and_handles_the_rest_of_its_batch_meanwhile(
    stores: tuple[EventStore, EventStore], pool: asyncpg.Pool, settings: Settings, nats_client: Client
) -> None:
    """a2 reaches NATS after a3 (as a3 reaches a replica that has not yet handled a2): b is handled at once,
    a3 comes again after a2."""
    ledger, audit = stores
    await ledger.append("a", "account", 0, [Opened(owner="a"), Deposited(amount=2), Deposited(amount=3)])
    await ledger.append("b", "account", 0, [Opened(owner="b")])
    a1, a2, a3 = await ledger.read_stream("a")
    [b1] = await ledger.read_stream("b")
    js = nats_client.jetstream()
    await bus.ensure_stream(js, settings, "ledger")

    async def publish(*records: RecordedEvent) -> None:
        for record in records:
            subject = bus.subject(settings.nats_prefix, "ledger", record.event_type)
            await js.publish(subject, record.data.encode(), headers=event_headers(record))

    await publish(a1, a3, b1)
    consumer = Consumer(pool, audit, js, settings.nats_prefix, SUBSCRIPTION, backoff=lambda _: 0.2)
    task = asyncio.create_task(consumer.run())
    try:
        await eventually(lambda: _count(pool, 2))
        assert await seen(pool) == [("a", 1), ("b", 1)]
        await publish(a2)
        await eventually(lambda: _count(pool, 4))
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert await seen(pool) == [("a", 1), ("b", 1), ("a", 2), ("a", 3)]
