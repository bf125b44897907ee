"""The event store on real PostgreSQL: append, read, conflicts, atomicity, gap safety, concurrency."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from shared.decider import UnitOfWork, run_command
from shared.eventstore import START, EventStore, Metadata, StreamAppend, StreamConflict
from tests.support.ledger import ACCOUNT, Deposit, Deposited, Open, Opened, ledger_store

pytestmark = pytest.mark.integration


@pytest.fixture
async def store(pool: asyncpg.Pool) -> EventStore:
    return await ledger_store(pool)


async def test_appended_events_read_back_in_order_with_metadata(store: EventStore) -> None:
    meta = Metadata(correlation_id="c-1", actor="buyer:ana", command_id="k-1")
    result = await store.append("acct-1", "account", 0, [Opened(owner="ana"), Deposited(amount=5)], meta)
    assert result.versions == {"acct-1": 2}
    events, version = await store.load("acct-1")
    assert events == [Opened(owner="ana"), Deposited(amount=5)]
    assert version == 2
    records = await store.read_stream("acct-1")
    assert [r.stream_version for r in records] == [1, 2]
    assert records[0].metadata == meta
    assert records[0].event_type == "Opened" and records[1].schema_version == 2
    assert records[0].event_id != records[1].event_id
    assert records[1].position == result.position.position


async def test_a_stale_expected_version_is_a_conflict_and_appends_nothing(store: EventStore) -> None:
    await store.append("acct-2", "account", 0, [Opened(owner="ana")])
    with pytest.raises(StreamConflict) as raised:
        await store.append("acct-2", "account", 0, [Opened(owner="bob")])
    assert raised.value.actual == 1
    with pytest.raises(StreamConflict):
        await store.append("acct-2", "account", 5, [Deposited(amount=1)])
    assert (await store.load("acct-2"))[1] == 1


async def test_multi_stream_append_is_all_or_nothing(store: EventStore) -> None:
    await store.append("pool-a", "account", 0, [Opened(owner="a")])
    await store.append("ledger-b", "account", 0, [Opened(owner="b")])
    await store.append("ledger-b", "account", 1, [Deposited(amount=1)])  # b moves on: its expected 1 is stale
    with pytest.raises(StreamConflict) as raised:
        await store.append_many(
            [
                StreamAppend("pool-a", "account", 1, [Deposited(amount=10)]),
                StreamAppend("ledger-b", "account", 1, [Deposited(amount=10)]),
            ]
        )
    assert raised.value.stream_id == "ledger-b"
    assert (await store.load("pool-a"))[1] == 1, "the other stream's append was rolled back"
    result = await store.append_many(
        [
            StreamAppend("pool-a", "account", 1, [Deposited(amount=10)]),
            StreamAppend("ledger-b", "account", 2, [Deposited(amount=10)]),
        ]
    )
    assert result.versions == {"pool-a": 2, "ledger-b": 3}


async def test_read_all_never_skips_an_event_that_commits_late_with_a_lower_position(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    early = await pool.acquire()
    late = await pool.acquire()
    try:
        # The first transaction takes the lower position but commits last.
        early_tx = early.transaction()
        await early_tx.start()
        await store.append("slow", "account", 0, [Opened(owner="slow")], connection=early)
        late_tx = late.transaction()
        await late_tx.start()
        await store.append("fast", "account", 0, [Opened(owner="fast")], connection=late)
        await late_tx.commit()

        seen = await store.read_all(START)
        assert seen == [], "nothing is visible while an older transaction is still open"

        await early_tx.commit()
        seen = await store.read_all(START)
        assert [r.stream_id for r in seen] == ["slow", "fast"]
        assert seen[0].position < seen[1].position
    finally:
        await pool.release(early)
        await pool.release(late)


async def test_a_checkpointed_reader_sees_the_late_commit_even_after_reading_past_it(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    # The later transaction holds the LOWER position and commits after a reader has checkpointed.
    first = await pool.acquire()
    second = await pool.acquire()
    try:
        await store.append("before", "account", 0, [Opened(owner="x")])
        checkpoint = (await store.read_all(START))[-1].global_position
        t2 = second.transaction()
        await t2.start()
        await second.execute("SELECT pg_current_xact_id()")  # t2 gets the older transaction id
        t1 = first.transaction()
        await t1.start()
        await store.append("low", "account", 0, [Opened(owner="low")], connection=first)
        await store.append("high", "account", 0, [Opened(owner="high")], connection=second)
        await t1.commit()
        assert await store.read_all(checkpoint) == [], "t2 is older and still open, so the reader waits"
        await t2.commit()
        names = [r.stream_id for r in await store.read_all(checkpoint)]
        assert sorted(names) == ["high", "low"]
        assert names[0] == "high", "the older transaction's event comes first even with a higher position"
    finally:
        await pool.release(first)
        await pool.release(second)


async def test_fifty_concurrent_appenders_on_different_streams_lose_nothing(store: EventStore) -> None:
    async def appender(n: int) -> None:
        await store.append(f"acct-{n}", "account", 0, [Opened(owner=str(n))])
        for version in range(1, 5):
            await store.append(f"acct-{n}", "account", version, [Deposited(amount=version)])

    await asyncio.gather(*(appender(n) for n in range(50)))
    everything = await store.read_all(START, limit=10_000)
    assert len(everything) == 250
    assert len({r.event_id for r in everything}) == 250
    for n in range(50):
        assert (await store.load(f"acct-{n}"))[1] == 5


async def test_concurrent_commands_on_one_stream_retry_and_all_land(store: EventStore) -> None:
    await run_command(store, lambda u: u.execute(ACCOUNT, "shared", Open(owner="co-op")), metadata=Metadata())

    async def deposit(unit: UnitOfWork) -> None:
        await unit.execute(ACCOUNT, "shared", Deposit(amount=1))

    await asyncio.gather(*(run_command(store, deposit, metadata=Metadata(), retries=50) for _ in range(20)))
    events, version = await store.load("shared")
    assert version == 21
    assert ACCOUNT.fold(events).balance == 20


async def test_a_stored_v1_event_is_upcast_when_read(store: EventStore, pool: asyncpg.Pool) -> None:
    await store.append("old", "account", 0, [Opened(owner="ana")])
    await pool.execute(
        "INSERT INTO ledger.events (event_id, stream_id, stream_type, stream_version, event_type, schema_version,"
        " data, metadata) VALUES (gen_random_uuid(), 'old', 'account', 2, 'Deposited', 1,"
        ' \'{"type": "ledger.Deposited.v1", "cents": 250}\', \'{}\')'
    )
    events, _ = await store.load("old")
    assert events[1] == Deposited(amount=250, note="upcast from v1")


async def test_readers_are_woken_after_the_commit_not_from_inside_the_appending_transaction(
    store: EventStore, pool: asyncpg.Pool, database_url: str
) -> None:
    woken = asyncio.Event()
    listener = await asyncpg.connect(database_url)
    try:
        await listener.add_listener(store.notify_channel, lambda *_: woken.set())
        async with pool.acquire() as in_transaction, in_transaction.transaction():
            await store.append("quiet", "account", 0, [Opened(owner="x")], connection=in_transaction)
        await asyncio.sleep(0.2)  # nothing wakes readers from inside (or after) a caller's own transaction
        assert not woken.is_set()
        await run_command(store, lambda u: u.execute(ACCOUNT, "loud", Open(owner="y")), metadata=Metadata())
        await asyncio.wait_for(woken.wait(), timeout=10)
        triggers = await pool.fetchval(
            "SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'ledger' AND NOT t.tgisinternal"
        )
        assert triggers == 0, "no NOTIFY trigger serialises the appending transactions"
    finally:
        await listener.close()
