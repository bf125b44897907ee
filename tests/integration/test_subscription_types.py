"""A subscription that names the event types it takes: JetStream sends it only those, and the inbox takes them once
each in the order they come, gaps in their streams' versions and all."""

from __future__ import annotations

from dataclasses import replace

import asyncpg
import pytest
from nats.aio.client import Client

from events.base import event_names
from shared import bus
from shared.config import Settings
from shared.eventstore import EventStore
from shared.inbox import Subscription, Taken, handle_batch, handle_once, parse_parts
from shared.migrations import migrate
from shared.relay import event_headers
from shared.runtime import Runtime
from tests.support.audit_service import POISON, audit_service, record, record_many
from tests.support.ledger import CODEC, Deposited, Opened
from tests.support.ledger_service import ledger_service
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

EVERY_TYPE = Subscription("ledger-deposits", "ledger", CODEC, record, record_many)
DEPOSITS = replace(EVERY_TYPE, ordered=False, takes=event_names(Deposited))
DURABLE = "audit-ledger-deposits"


def filtering(client: Client) -> None:
    """Skip where NATS cannot filter a consumer's subjects by a list (before 2.10: it is sent every type)."""
    version = client.connected_server_version
    if (version.major, version.minor) < (2, 10):
        pytest.skip(f"NATS {version} has no filter_subjects")


async def seen(pool: asyncpg.Pool) -> list[tuple[str, int]]:
    rows = await pool.fetch("SELECT stream_id, version FROM audit.seen ORDER BY stream_id, version")
    return [(r["stream_id"], r["version"]) for r in rows]


async def test_a_subscription_that_names_its_types_is_sent_only_those(
    settings: Settings, pool: asyncpg.Pool, nats_client: Client
) -> None:
    filtering(nats_client)
    runtime = Runtime(settings, [ledger_service, replace(audit_service, subscriptions=[DEPOSITS])])
    await runtime.start()
    try:
        store = runtime.contexts["ledger"].store
        for n in range(10):
            await store.append(f"a{n}", "account", 0, [Opened(owner="x"), Deposited(amount=n), Deposited(amount=1)])
        await store.append("last", "account", 0, [Opened(owner="y")])  # the last event, of a type it does not take

        async def all_deposits_seen() -> bool:
            return len(await seen(pool)) == 20

        await eventually(all_deposits_seen)
        assert await seen(pool) == sorted((f"a{n}", v) for n in range(10) for v in (2, 3))
        info = await nats_client.jetstream().consumer_info(bus.stream_name(settings.nats_prefix, "ledger"), DURABLE)
        assert info.config.filter_subjects == [bus.subject(settings.nats_prefix, "ledger", "Deposited")]
        assert info.num_pending == 0 and info.delivered.consumer_seq == 20  # the 11 Opened were never sent
        assert await pool.fetchval("SELECT count(*) FROM audit.inbox WHERE consumer = 'ledger-deposits'") == 20
        progress = await pool.fetchval("SELECT count(*) FROM audit.stream_progress WHERE consumer = 'ledger-deposits'")
        assert progress == 0, "no stream order is kept for it"
    finally:
        await runtime.stop()


async def test_a_consumer_made_before_its_subscription_named_types_is_sent_only_those_from_then_on(
    settings: Settings, pool: asyncpg.Pool, nats_client: Client
) -> None:
    filtering(nats_client)
    before = Runtime(settings, [ledger_service, replace(audit_service, subscriptions=[EVERY_TYPE])])
    await before.start()
    try:
        await before.contexts["ledger"].store.append("old", "account", 0, [Opened(owner="x"), Deposited(amount=1)])

        async def both_seen() -> bool:
            return len(await seen(pool)) == 2

        await eventually(both_seen)
    finally:
        await before.stop()
    after = Runtime(settings, [ledger_service, replace(audit_service, subscriptions=[DEPOSITS])])
    await after.start()
    try:
        store = after.contexts["ledger"].store
        await store.append("new", "account", 0, [Opened(owner="x"), Deposited(amount=2), Deposited(amount=3)])

        async def new_deposits_seen() -> bool:
            return len(await seen(pool)) == 4

        await eventually(new_deposits_seen)
        info = await nats_client.jetstream().consumer_info(bus.stream_name(settings.nats_prefix, "ledger"), DURABLE)
        assert info.config.filter_subjects == [bus.subject(settings.nats_prefix, "ledger", "Deposited")]
        assert info.num_pending == 0 and info.num_ack_pending == 0
        assert await seen(pool) == [("new", 2), ("new", 3), ("old", 1), ("old", 2)]
    finally:
        await after.stop()


async def test_a_replica_not_holding_its_lease_is_caught_up_though_the_streams_last_message_is_of_another_type(
    settings: Settings, pool: asyncpg.Pool
) -> None:
    first = Runtime(settings, [ledger_service, replace(audit_service, subscriptions=[DEPOSITS])])
    await first.start()
    second = Runtime(settings, [replace(audit_service, subscriptions=[DEPOSITS])])
    try:
        await first.contexts["ledger"].store.append("a", "account", 0, [Opened(owner="x"), Deposited(amount=1)])
        await first.contexts["ledger"].store.append("b", "account", 0, [Opened(owner="y")])

        async def deposit_seen() -> bool:
            return len(await seen(pool)) == 1

        await eventually(deposit_seen)
        await second.start()  # the stream's last message, an Opened, is its consumer's target

        def holds(runtime: Runtime) -> bool:
            return any(DURABLE in leases.held for leases in runtime.leases if leases.schema == "audit")

        async def one_holds_the_other_waits() -> bool:
            return sorted(map(holds, (first, second))) == [False, True]

        await eventually(one_holds_the_other_waits)
        waiting = first if holds(second) else second
        consumer = next(c for c in waiting.consumers if c.durable == DURABLE)

        async def caught_up() -> bool:
            return consumer.caught_up.is_set()

        await eventually(caught_up)
    finally:
        await second.stop()
        await first.stop()


async def test_a_poison_event_it_takes_is_dead_lettered_and_no_stream_progress_kept(
    settings: Settings, pool: asyncpg.Pool
) -> None:
    runtime = Runtime(settings, [ledger_service, replace(audit_service, subscriptions=[DEPOSITS])])
    await runtime.start()
    try:
        store = runtime.contexts["ledger"].store
        await store.append("p", "account", 0, [Opened(owner="x"), Deposited(amount=POISON), Deposited(amount=1)])

        async def parked_and_the_next_seen() -> bool:
            letters = await pool.fetchval("SELECT count(*) FROM audit.dead_letters WHERE consumer = 'ledger-deposits'")
            return letters == 1 and await seen(pool) == [("p", 3)]

        await eventually(parked_and_the_next_seen)
        assert await pool.fetchval("SELECT count(*) FROM audit.stream_progress") == 0
    finally:
        await runtime.stop()


@pytest.mark.parametrize("one_at_a_time", [False, True], ids=["a batch", "one at a time"])
async def test_the_inbox_takes_them_in_the_order_they_come_once_each(pool: asyncpg.Pool, one_at_a_time: bool) -> None:
    async with pool.acquire() as connection:
        await migrate(connection, "ledger", [])
        await migrate(connection, "audit", audit_service.migrations)
    ledger, audit = EventStore(pool, "ledger", CODEC), EventStore(pool, "audit", audit_service.codec)
    await ledger.append("s", "account", 0, [Opened(owner="x"), *(Deposited(amount=n) for n in range(5))])
    records = await ledger.read_stream("s")
    deposits = [parse_parts(event_headers(r), r.data, CODEC) for r in records if r.event_type == "Deposited"]
    arriving = [deposits[4], deposits[1], deposits[3], deposits[4], deposits[0]]  # v6, v3, v5, v6 again, v2
    if one_at_a_time:
        taken = [Taken.HANDLED if await handle_once(pool, audit, DEPOSITS, d) else Taken.DUPLICATE for d in arriving]
    else:
        taken = await handle_batch(pool, audit, DEPOSITS, arriving)
    assert taken == [Taken.HANDLED] * 3 + [Taken.DUPLICATE, Taken.HANDLED]  # none waits for its predecessor
    duplicate, handled = Taken.DUPLICATE, Taken.HANDLED
    assert await handle_batch(pool, audit, DEPOSITS, deposits) == [duplicate, duplicate, handled, duplicate, duplicate]
    assert await seen(pool) == [("s", v) for v in (2, 3, 4, 5, 6)]
