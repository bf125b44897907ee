"""Consumer leases: each subscription consumed by one replica at a time, the subscriptions shared out among the
replicas that are up, taken over when one stops, and handed over without waiting for JetStream's ack wait."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

import asyncpg
import pytest

from shared import bus
from shared.config import Settings
from shared.consumer import ACK_WAIT_SECONDS, Consumer
from shared.eventstore import EventStore, Metadata, StreamAppend
from shared.inbox import Subscription
from shared.migrations import migrate
from shared.runtime import Runtime
from tests.support.audit_service import audit_service, record, record_many
from tests.support.ledger import CODEC, Deposited, Opened
from tests.support.ledger_service import ledger_service
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

NAMES = ("ledger-audit", "ledger-audit-batch", "ledger-audit-third")
AUDITORS = replace(
    audit_service,
    subscriptions=[
        Subscription(NAMES[0], "ledger", CODEC, record),
        Subscription(NAMES[1], "ledger", CODEC, record, record_many),
        Subscription(NAMES[2], "ledger", CODEC, record),
    ],
)
DURABLES = {f"audit-{name}" for name in NAMES} | {"audit-identities"}  # and the one every service has


@pytest.fixture
async def first(settings: Settings) -> AsyncIterator[Runtime]:
    """The ledger and a replica of the auditors."""
    runtime = Runtime(settings, [ledger_service, AUDITORS])
    await runtime.start()
    yield runtime
    await runtime.stop()


def held(runtime: Runtime) -> set[str]:
    """The auditors' consumers ``runtime`` runs."""
    return {durable for leases in runtime.leases if leases.schema == "audit" for durable in leases.held}


async def open_accounts(store: EventStore, first: int, count: int) -> None:
    """Accounts ``first`` to ``first + count``, each opened and given a deposit: two events each."""
    accounts = range(first, first + count)
    opened = [Opened(owner="x"), Deposited(amount=1)]
    await store.append_many([StreamAppend(f"acct-{n}", "account", 0, opened, Metadata()) for n in accounts])


def ledger(runtime: Runtime) -> EventStore:
    return runtime.contexts["ledger"].store


async def each_consumer_handled(pool: asyncpg.Pool, events: int) -> bool:
    rows = await pool.fetch("SELECT consumer, count(*) AS n FROM audit.inbox GROUP BY consumer")
    return {row["consumer"]: row["n"] for row in rows} == dict.fromkeys(NAMES, events)


async def test_replicas_share_the_subscriptions_each_consumed_by_one_at_a_time(
    first: Runtime, settings: Settings, pool: asyncpg.Pool
) -> None:
    await eventually(lambda: _holds(first, DURABLES))
    second = Runtime(settings, [AUDITORS])
    await second.start()
    try:
        await eventually(lambda: _shared(first, second))
        assert [leases.replicas for runtime in (first, second) for leases in runtime.leases] == [1, 2, 2]
        await open_accounts(ledger(first), 0, 20)
        await eventually(lambda: each_consumer_handled(pool, 40))
        assert (await second.is_ready())["consumers"], "caught up: the replicas holding the others' leases are"
        assert await _each_event_seen(pool, times=len(NAMES))
    finally:
        await second.stop()
    await eventually(lambda: _holds(first, DURABLES))  # the replica left takes every lease again
    await open_accounts(ledger(first), 20, 5)
    await eventually(lambda: each_consumer_handled(pool, 50))
    assert await _each_event_seen(pool, times=len(NAMES))


async def test_a_replica_shutting_down_mid_bulk_leaves_nothing_to_wait_for_the_ack_wait(
    first: Runtime, settings: Settings, pool: asyncpg.Pool
) -> None:
    """The replica that goes on finishes the bulk the other was consuming when it stopped well inside JetStream's
    ack wait: what the stopping one held reached it at once."""
    second = Runtime(settings, [AUDITORS])
    await second.start()
    try:
        await eventually(lambda: _shared(first, second))
        theirs = held(second) - {"audit-identities"}
        await open_accounts(ledger(first), 0, 1_500)

        async def second_midway() -> bool:
            counts = await pool.fetch("SELECT consumer, count(*) AS n FROM audit.inbox GROUP BY consumer")
            return any(f"audit-{row['consumer']}" in theirs and row["n"] >= 200 for row in counts)

        await eventually(second_midway)
    finally:
        await second.stop()
    assert not await each_consumer_handled(pool, 3_000), "the replica stopped before the end of the bulk"
    await eventually(lambda: each_consumer_handled(pool, 3_000), timeout=ACK_WAIT_SECONDS - 10)


async def _holds(runtime: Runtime, durables: set[str]) -> bool:
    return held(runtime) == durables


async def _shared(one: Runtime, other: Runtime) -> bool:
    mine, theirs = held(one), held(other)
    return not mine & theirs and mine | theirs == DURABLES and len(mine) == len(theirs)


async def _each_event_seen(pool: asyncpg.Pool, *, times: int) -> bool:
    counts = await pool.fetch("SELECT event_id, count(*) AS n FROM audit.seen GROUP BY event_id")
    return {row["n"] for row in counts} == {times}


async def test_a_replica_that_loses_its_lease_connection_lets_go_and_takes_its_leases_again(
    first: Runtime, pool: asyncpg.Pool
) -> None:
    await eventually(lambda: _holds(first, DURABLES))
    await pool.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'gotong-leases-audit' "
        "AND datname = current_database()"
    )
    await eventually(lambda: _holds(first, set()), timeout=5)  # no lease without its lock
    await eventually(lambda: _holds(first, DURABLES))
    await open_accounts(ledger(first), 0, 10)
    await eventually(lambda: each_consumer_handled(pool, 20))


@asynccontextmanager
async def two_consumers(settings: Settings, pool: asyncpg.Pool, name: str) -> AsyncIterator[tuple[Consumer, Consumer]]:
    """Two replicas' consumers of one subscription (neither running yet), the ledger's relay, and 300 accounts
    opened: 600 events to consume, in batches of 20."""
    async with pool.acquire() as connection:
        await migrate(connection, "audit", AUDITORS.migrations)
    audit = EventStore(pool, "audit", AUDITORS.codec)
    nats = await bus.connect(settings.nats_url or "")
    subscription = replace(AUDITORS.subscriptions[0], name=name)
    first, second = (
        Consumer(pool, audit, nats.jetstream(), settings.nats_prefix, subscription, batch=20) for _ in range(2)
    )
    relay = Runtime(settings, [ledger_service])  # the ledger's relay
    await relay.start()
    try:
        await open_accounts(EventStore(pool, "ledger", CODEC), 0, 300)
        yield first, second
    finally:
        await relay.stop()
        await nats.close()


async def test_a_consumer_handing_its_lease_over_gives_back_what_it_fetched_at_once(
    settings: Settings, pool: asyncpg.Pool
) -> None:
    """What the consumer that hands over had fetched and not handled reaches the next one long before JetStream's
    ack wait would have sent it again."""
    async with two_consumers(settings, pool, "handed-over") as (leaving, taking):
        taking.leased.clear()
        tasks = [asyncio.create_task(c.run()) for c in (leaving, taking)]
        try:
            await eventually(lambda: _handled(leaving, 40))
            leaving.leased.clear()
            await asyncio.wait_for(leaving.paused.wait(), 10)
            assert leaving.handled < 600, "the one handing over stopped before the end"
            taking.leased.set()
            await eventually(lambda: _inbox(pool, "handed-over", 600), timeout=ACK_WAIT_SECONDS - 10)

            async def acknowledged() -> bool:  # a batch's acks are confirmed after its commit, which the inbox shows
                return leaving.handled + taking.handled >= 600

            await eventually(acknowledged)
            assert leaving.handled + taking.handled == 600
        finally:
            await _stop(tasks)


async def test_a_consumer_that_stops_gives_back_what_it_fetched_at_once(settings: Settings, pool: asyncpg.Pool) -> None:
    """A replica shutting down mid-batch: what it had fetched and not handled reaches the replica that goes on long
    before JetStream's ack wait would have sent it again."""
    async with two_consumers(settings, pool, "stopped") as (stopping, going_on):
        tasks = [asyncio.create_task(stopping.run())]
        try:
            await eventually(lambda: _handled(stopping, 40))
            await _stop(tasks)
            assert stopping.handled < 600, "the one stopping stopped before the end"
            tasks.append(asyncio.create_task(going_on.run()))
            await eventually(lambda: _inbox(pool, "stopped", 600), timeout=ACK_WAIT_SECONDS - 10)
        finally:
            await _stop(tasks)


async def _stop(tasks: list[asyncio.Task[None]]) -> None:
    """Cancel the tasks again at every turn of the loop until they end: harder than ``Runtime.stop``, which cancels
    again every tenth of a second."""
    while not all(task.done() for task in tasks):
        for task in tasks:
            task.cancel()
        await asyncio.sleep(0)
    await asyncio.gather(*tasks, return_exceptions=True)


async def _handled(consumer: Consumer, count: int) -> bool:
    return consumer.handled >= count


async def _inbox(pool: asyncpg.Pool, consumer: str, count: int) -> bool:
    return await pool.fetchval("SELECT count(*) FROM audit.inbox WHERE consumer = $1", consumer) == count
