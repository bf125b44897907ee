"""What only the PostgreSQL event store shows: transaction ids (xid8) ordering late commits, stored rows upcast when
read, NOTIFY after the commit, advisory stream locks. What every adapter promises is in tests/contract."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from shared.decider import UnitOfWork, run_command
from shared.eventstore import START, Connection, EventStore, Metadata, stream_lock_key
from tests.support.ledger import ACCOUNT, Deposited, Open, Opened, ledger_store
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


@pytest.fixture
async def store(pool: asyncpg.Pool) -> EventStore:
    return await ledger_store(pool)


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


async def test_a_command_holds_advisory_locks_on_its_streams_until_its_transaction_ends(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    key = stream_lock_key(store.schema, "locked")
    held: list[bool] = []

    async def work(unit: UnitOfWork) -> None:
        async with pool.acquire() as other:
            held.append(not await other.fetchval("SELECT pg_try_advisory_xact_lock($1)", key))
        await unit.execute(ACCOUNT, "locked", Open(owner="ana"))

    await run_command(store, work, metadata=Metadata(), lock_streams=["locked"])
    async with pool.acquire() as other:
        assert await other.fetchval("SELECT pg_try_advisory_lock($1)", key), "released at the commit"
        await other.execute("SELECT pg_advisory_unlock($1)", key)
    assert held == [True], "another session could not take the stream's lock while the command ran"


async def test_streams_locked_in_one_statement_are_taken_in_sorted_order(store: EventStore, pool: asyncpg.Pool) -> None:
    """Several streams are locked by one statement, one after another in sorted order: waiting for the middle
    one, it holds the first and not yet the last (so it keeps the order every command locks in)."""
    first, middle, last = (stream_lock_key(store.schema, s) for s in ("lock-a", "lock-b", "lock-c"))

    async def free(observer: Connection, key: int) -> bool:
        taken = bool(await observer.fetchval("SELECT pg_try_advisory_lock($1)", key))
        if taken:
            await observer.execute("SELECT pg_advisory_unlock($1)", key)
        return taken

    async with pool.acquire() as holder, pool.acquire() as observer:
        holding = holder.transaction()
        await holding.start()
        await holder.execute("SELECT pg_advisory_xact_lock($1)", middle)
        async with store.transaction() as connection:
            locking = asyncio.create_task(store.lock_streams(["lock-c", "lock-a", "lock-b"], connection=connection))

            async def holds_the_first() -> bool:
                return not await free(observer, first)

            await eventually(holds_the_first)
            assert await free(observer, last), "the last stream was locked before the middle one"
            assert not locking.done()
            await holding.rollback()
            await asyncio.wait_for(locking, timeout=10)
            assert not await free(observer, last)
