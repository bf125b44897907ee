"""The bus on real PostgreSQL and NATS: relay, exactly-once consumers, order, dead letters, rebuilds."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import asyncpg
import nats
import pytest
from prometheus_client.parser import text_string_to_metric_families

from shared import bus, metrics
from shared.config import Settings
from shared.eventstore import START, EventStore
from shared.inbox import Early, handle_once, parse_parts
from shared.migrations import migrate
from shared.operations import _replay
from shared.rebuild import rebuild
from shared.relay import Relay, event_headers
from shared.runtime import Runtime
from tests.conftest import Servers
from tests.support.audit_service import POISON, audit_service
from tests.support.ledger import CODEC, Deposited, Opened
from tests.support.ledger_service import accounts, ledger_service
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


@pytest.fixture
async def runtime(settings: Settings) -> AsyncIterator[Runtime]:
    runtime = Runtime(settings, [ledger_service, audit_service])
    await runtime.start()
    yield runtime
    await runtime.stop()


def ledger(runtime: Runtime) -> EventStore:
    return runtime.contexts["ledger"].store


async def seen(pool: asyncpg.Pool) -> list[tuple[str, int]]:
    rows = await pool.fetch("SELECT stream_id, version FROM audit.seen ORDER BY n")
    return [(r["stream_id"], r["version"]) for r in rows]


async def test_events_flow_from_store_to_consumer_once_and_in_order(runtime: Runtime, pool: asyncpg.Pool) -> None:
    store = ledger(runtime)
    for n in range(20):
        await store.append(f"a{n}", "account", 0, [Opened(owner="x"), Deposited(amount=100 + n)])
    await eventually(lambda: _count(pool, 40))
    rows = await seen(pool)
    for n in range(20):
        assert [v for s, v in rows if s == f"a{n}"] == [1, 2]


async def _count(pool: asyncpg.Pool, expected: int) -> bool:
    return len(await seen(pool)) >= expected


async def test_a_relay_crash_between_publish_and_checkpoint_delivers_each_event_once(
    settings: Settings, pool: asyncpg.Pool
) -> None:
    consumer_runtime = Runtime(settings, [audit_service])
    store = EventStore(pool, "ledger", CODEC)
    async with pool.acquire() as connection:
        await migrate(connection, "ledger", [])
    await store.append("crash", "account", 0, [Opened(owner="x"), Deposited(amount=1), Deposited(amount=2)])
    client = await bus.connect(settings.nats_url or "")
    js = client.jetstream()
    await bus.ensure_stream(js, settings, "ledger")
    crashes = []

    def crash_once(records: list[object]) -> None:
        if not crashes:
            crashes.append(len(records))
            raise RuntimeError("relay died after publishing, before its checkpoint")

    relay = Relay(store, settings.database_url or "", js, settings.nats_prefix, before_checkpoint=crash_once)
    task = asyncio.create_task(relay.run())
    await consumer_runtime.start()
    try:
        await eventually(lambda: _count(pool, 3))
        assert crashes == [3], "the first batch was published, then the relay crashed"
        await eventually(lambda: _published(relay, 3))
        info = await js.stream_info(bus.stream_name(settings.nats_prefix, "ledger"))
        assert info.state.messages == 3, "JetStream dropped the republished duplicates"
        assert await seen(pool) == [("crash", 1), ("crash", 2), ("crash", 3)]
    finally:
        task.cancel()
        await consumer_runtime.stop()
        await client.close()


async def _published(relay: Relay, n: int) -> bool:
    return relay.published >= n


async def test_a_duplicate_delivery_has_one_effect(runtime: Runtime, pool: asyncpg.Pool, settings: Settings) -> None:
    store = ledger(runtime)
    await store.append("dup", "account", 0, [Opened(owner="x")])
    await eventually(lambda: _count(pool, 1))
    (record,) = await store.read_stream("dup")
    headers = event_headers(record)
    client = await nats.connect(settings.nats_url)
    try:
        # A different Nats-Msg-Id gets past JetStream's duplicate window, as a republish after a long outage would.
        js = client.jetstream()
        await js.publish(
            bus.subject(settings.nats_prefix, "ledger", "Opened"),
            record.data.encode(),
            headers={**headers, bus.MSG_ID: "republished-later"},
        )
        await store.append("dup", "account", 1, [Deposited(amount=1)])
        await eventually(lambda: _count(pool, 2))
    finally:
        await client.close()
    assert await seen(pool) == [("dup", 1), ("dup", 2)]
    subscription = audit_service.subscriptions[0]
    delivery = parse_parts(headers, record.data, CODEC)
    assert await handle_once(pool, runtime.contexts["audit"].store, subscription, delivery) is False


async def test_an_event_ahead_of_its_predecessor_waits(pool: asyncpg.Pool) -> None:
    store = EventStore(pool, "ledger", CODEC)
    audit = EventStore(pool, "audit", audit_service.codec)
    async with pool.acquire() as connection:
        await migrate(connection, "ledger", [])
        await migrate(connection, "audit", audit_service.migrations)
    await store.append("order", "account", 0, [Opened(owner="x"), Deposited(amount=1)])
    first, second = await store.read_stream("order")
    subscription = audit_service.subscriptions[0]
    later = parse_parts(event_headers(second), second.data, CODEC)
    with pytest.raises(Early):
        await handle_once(pool, audit, subscription, later)
    assert await handle_once(pool, audit, subscription, parse_parts(event_headers(first), first.data, CODEC))
    assert await handle_once(pool, audit, subscription, later)
    assert await seen(pool) == [("order", 1), ("order", 2)]


async def test_a_poison_event_is_dead_lettered_after_bounded_tries_and_replays_once_cured(
    runtime: Runtime, pool: asyncpg.Pool
) -> None:
    store = ledger(runtime)
    await store.append("poison", "account", 0, [Opened(owner="x"), Deposited(amount=POISON), Deposited(amount=1)])
    await eventually(lambda: _count(pool, 2))
    letters = await pool.fetch("SELECT id, deliveries, error FROM audit.dead_letters")
    assert len(letters) == 1
    assert letters[0]["deliveries"] == runtime.settings.max_deliveries
    assert "refused until cured" in letters[0]["error"]
    assert await seen(pool) == [("poison", 1), ("poison", 3)], "later events of the stream were not blocked"

    await pool.execute("INSERT INTO audit.cures VALUES ('fixed the handler')")
    assert await _replay(pool, audit_service, letters[0]["id"])
    assert await _replay(pool, audit_service, letters[0]["id"]) is False, "a replayed letter is not replayed again"
    assert sorted(await seen(pool)) == [("poison", 1), ("poison", 2), ("poison", 3)]


async def test_only_one_of_two_relays_publishes_and_the_other_takes_over(
    settings: Settings, pool: asyncpg.Pool
) -> None:
    store = EventStore(pool, "ledger", CODEC)
    async with pool.acquire() as connection:
        await migrate(connection, "ledger", [])
    client = await bus.connect(settings.nats_url or "")
    js = client.jetstream()
    await bus.ensure_stream(js, settings, "ledger")
    first = Relay(store, settings.database_url or "", js, settings.nats_prefix, poll_seconds=0.1)
    second = Relay(store, settings.database_url or "", js, settings.nats_prefix, poll_seconds=0.1)
    tasks = [asyncio.create_task(first.run()), asyncio.create_task(second.run())]
    try:
        for n in range(10):
            await store.append(f"r{n}", "account", 0, [Opened(owner="x")])

        async def all_published() -> bool:
            return first.published + second.published == 10

        await eventually(all_published)
        assert [first.active, second.active].count(True) == 1
        active, standby = (0, 1) if first.active else (1, 0)
        tasks[active].cancel()
        relays = (first, second)
        await eventually(lambda: _active(relays[standby]))
        for n in range(10, 15):
            await store.append(f"r{n}", "account", 0, [Opened(owner="x")])
        await eventually(lambda: _published(relays[standby], relays[standby].published + 0 or 1))

        async def fifteen() -> bool:
            info = await js.stream_info(bus.stream_name(settings.nats_prefix, "ledger"))
            return info.state.messages == 15

        await eventually(fifteen)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await client.close()


async def _active(relay: Relay) -> bool:
    return relay.active


async def test_commands_succeed_while_nats_is_down_and_everything_arrives_in_order_after(
    servers: Servers, runtime: Runtime, pool: asyncpg.Pool
) -> None:
    if servers.nats is None:
        pytest.skip("needs the embedded NATS server to stop and start it")
    store = ledger(runtime)
    await store.append("outage", "account", 0, [Opened(owner="x")])
    await eventually(lambda: _count(pool, 1))
    servers.nats.stop()  # type: ignore[attr-defined]
    try:
        for version in range(1, 31):
            await store.append("outage", "account", version, [Deposited(amount=100 + version)])
    finally:
        servers.nats.start()  # type: ignore[attr-defined]
    await eventually(lambda: _count(pool, 31), timeout=60)
    assert [v for _, v in await seen(pool)] == list(range(1, 32))


async def test_a_rebuilt_projection_has_identical_rows_and_swaps_in(runtime: Runtime, pool: asyncpg.Pool) -> None:
    store = ledger(runtime)
    for n in range(30):
        await store.append(f"p{n}", "account", 0, [Opened(owner=f"org/{n}"), Deposited(amount=100 + n)])
    projection = ledger_service.projections[0]
    await runtime.contexts["ledger"].projector.catch_up()
    report = await rebuild(store, projection, verify_only=True)
    assert report.matches and not report.swapped and report.events_applied == 60

    await pool.execute("UPDATE ledger.accounts SET balance = -1 WHERE id = 'p3'")
    assert not (await rebuild(store, projection, verify_only=True)).matches
    swapped = await rebuild(store, projection)
    assert swapped.swapped
    assert await pool.fetchval("SELECT balance FROM ledger.accounts WHERE id = 'p3'") == 103
    assert await pool.fetchval("SELECT count(*) FROM ledger.accounts") == 30
    assert (await rebuild(store, projection, verify_only=True)).matches, "a second rebuild finds nothing to fix"
    await store.append("p99", "account", 0, [Opened(owner="org/99")])

    async def projected_after_swap() -> bool:
        return bool(await pool.fetchval("SELECT count(*) FROM ledger.accounts") == 31)

    await eventually(projected_after_swap)  # the live projector goes on in the swapped-in table
    assert accounts.name == "accounts"
    assert (await store.read_all(START, limit=1000))[-1].stream_id == "p99"


__all__ = ["replace"]


async def test_a_projection_caught_up_shows_no_lag_though_an_older_transaction_holds_the_highest_position(
    runtime: Runtime, pool: asyncpg.Pool
) -> None:
    """Global order is (transaction, position): the last event in it need not hold the highest position."""
    store = ledger(runtime)
    older, newer = await pool.acquire(), await pool.acquire()
    try:
        first, second = older.transaction(), newer.transaction()
        await first.start()
        await store.append("older", "account", 0, [Opened(owner="x")], connection=older)
        await second.start()
        last = await store.append("newer", "account", 0, [Opened(owner="y")], connection=newer)
        await second.commit()
        highest = await store.append("older", "account", 1, [Deposited(amount=1)], connection=older)
        await first.commit()
    finally:
        await pool.release(older)
        await pool.release(newer)
    assert highest.position.position > last.position.position and highest.position < last.position
    store.committed()
    projector = runtime.contexts["ledger"].projector
    await eventually(lambda: projector.reached(last.position.position))
    assert await projector.reached(highest.position.position)
    lags = {
        sample.labels["projection"]: sample.value
        for family in text_string_to_metric_families((await metrics.exposition(runtime)).decode())
        if family.name == "gotong_projection_lag_events"
        for sample in family.samples
        if sample.labels["service"] == "ledger"
    }
    assert lags == {"accounts": 0}
