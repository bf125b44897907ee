"""What every event store adapter promises, run on each (in memory and on PostgreSQL): append at an expected
version, read back, conflicts, all-or-nothing appends, transactions, global order, and the command runtime."""

from __future__ import annotations

import asyncio

import pytest

from shared.decider import TooManyConflicts, UnitOfWork, run_command
from shared.eventstore import START, EventStorage, GlobalPosition, Metadata, Selection, StreamAppend, StreamConflict
from tests.support.ledger import ACCOUNT, Deposit, Deposited, Open, Opened


async def test_appended_events_read_back_in_order_with_metadata(store: EventStorage) -> None:
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
    assert records[0].stream_type == "account"
    assert records[0].event_id != records[1].event_id
    assert [r.event_id for r in records] == result.event_ids
    assert records[1].global_position == result.position


async def test_a_stream_reads_from_a_version_and_tells_its_version(store: EventStorage) -> None:
    await store.append("acct-r", "account", 0, [Opened(owner="ana"), Deposited(amount=1), Deposited(amount=2)])
    assert [r.stream_version for r in await store.read_stream("acct-r", after_version=1)] == [2, 3]
    assert await store.read_stream("acct-r", after_version=3) == []
    assert await store.stream_version("acct-r") == 3
    assert await store.stream_version("nobody") == 0
    assert await store.load("nobody") == ([], 0)


async def test_a_stale_expected_version_is_a_conflict_and_appends_nothing(store: EventStorage) -> None:
    await store.append("acct-2", "account", 0, [Opened(owner="ana")])
    with pytest.raises(StreamConflict) as raised:
        await store.append("acct-2", "account", 0, [Opened(owner="bob")])
    assert raised.value.actual == 1
    with pytest.raises(StreamConflict) as ahead:
        await store.append("acct-2", "account", 5, [Deposited(amount=1)])
    assert (ahead.value.stream_id, ahead.value.expected, ahead.value.actual) == ("acct-2", 5, 1)
    assert (await store.load("acct-2"))[1] == 1


async def test_multi_stream_append_is_all_or_nothing(store: EventStorage) -> None:
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


async def test_one_stream_twice_in_one_append_at_the_same_version_is_a_conflict(store: EventStorage) -> None:
    with pytest.raises(StreamConflict):
        await store.append_many(
            [
                StreamAppend("twice", "account", 0, [Opened(owner="a")]),
                StreamAppend("twice", "account", 0, [Opened(owner="b")]),
            ]
        )
    assert await store.read_stream("twice") == []


async def test_a_stream_twice_in_one_append_continuing_itself_keeps_each_appends_metadata(store: EventStorage) -> None:
    first, second = Metadata(causation_id="cause-1"), Metadata(causation_id="cause-2")
    result = await store.append_many(
        [
            StreamAppend("causes", "account", 0, [Opened(owner="a"), Deposited(amount=1)], first),
            StreamAppend("other", "account", 0, [Opened(owner="b")]),
            StreamAppend("causes", "account", 2, [Deposited(amount=2)], second),
        ]
    )
    assert result.versions == {"causes": 3, "other": 1}
    records = await store.read_stream("causes")
    assert [(r.stream_version, r.metadata) for r in records] == [(1, first), (2, first), (3, second)]
    with pytest.raises(StreamConflict):  # a second append that leaves a gap after the first
        await store.append_many(
            [
                StreamAppend("causes", "account", 3, [Deposited(amount=3)]),
                StreamAppend("causes", "account", 5, [Deposited(amount=4)]),
            ]
        )
    with pytest.raises(StreamConflict):  # the first append of the stream is stale
        await store.append_many(
            [
                StreamAppend("causes", "account", 2, [Deposited(amount=3)]),
                StreamAppend("causes", "account", 3, [Deposited(amount=4)]),
            ]
        )
    assert await store.stream_version("causes") == 3


async def test_several_streams_read_at_once_each_after_its_own_version(store: EventStorage) -> None:
    await store.append("many-a", "account", 0, [Opened(owner="a"), Deposited(amount=1), Deposited(amount=2)])
    await store.append("many-b", "account", 0, [Opened(owner="b")])
    records = await store.read_streams([("many-b", 0), ("many-a", 1), ("many-none", 0)])
    assert [(r.stream_id, r.stream_version) for r in records] == [("many-a", 2), ("many-a", 3), ("many-b", 1)]
    assert await store.read_streams([("many-a", 3)]) == []
    assert await store.read_streams([]) == []


async def test_appending_no_events_changes_nothing(store: EventStorage) -> None:
    result = await store.append_many([StreamAppend("empty", "account", 0, [])])
    assert (result.versions, result.position, result.event_ids) == ({"empty": 0}, START, [])
    assert await store.read_all() == []


async def test_positions_increase_and_read_all_pages_through_the_global_order(store: EventStorage) -> None:
    for n in range(7):
        await store.append(f"acct-{n % 3}", "account", n // 3, [Opened(owner=str(n)) if n < 3 else Deposited(amount=n)])
    everything = await store.read_all(START, limit=100)
    assert len(everything) == 7
    positions = [r.global_position for r in everything]
    assert positions == sorted(positions) and len(set(positions)) == 7
    assert [r.position for r in everything] == sorted(r.position for r in everything)
    paged, after = [], START
    while page := await store.read_all(after, limit=3):
        paged += page
        after = page[-1].global_position
    assert [r.event_id for r in paged] == [r.event_id for r in everything]
    assert not await store.committed_after(after)
    assert await store.committed_after(START)


async def test_read_all_of_sends_a_few_types_and_where_the_read_ended(store: EventStorage) -> None:
    for n in range(4):
        await store.append(f"acct-{n}", "account", 0, [Opened(owner=str(n)), Deposited(amount=n), Deposited(amount=1)])
    everything = await store.read_all(START, limit=100)

    first = await store.read_all_of(["Opened"], START, 5)
    assert [r.event_id for r in first.events] == [everything[0].event_id, everything[3].event_id]
    assert (first.reached, first.passed) == (everything[4].global_position, 5), "it ends at the fifth, a Deposited"

    paged, after = [], START
    while (page := await store.read_all_of(["Opened"], after, 2)).passed:
        assert page.reached > after and page.passed <= 2
        paged += page.events
        after = page.reached
    assert [r.event_id for r in paged] == [r.event_id for r in everything if r.event_type == "Opened"]
    assert after == everything[-1].global_position
    assert await store.read_all_of(["Opened"], after, 2) == Selection([], after, 0)
    none = await store.read_all_of(["Withdrawn"], START, 100)
    assert (none.events, none.reached, none.passed) == ([], everything[-1].global_position, 12)


async def test_read_all_of_never_goes_past_an_event_that_commits_late(store: EventStorage) -> None:
    early_transaction = store.transaction()
    early = await early_transaction.__aenter__()
    try:
        await store.append("slow", "account", 0, [Opened(owner="slow")], connection=early)  # the lower position
        await store.append("fast", "account", 0, [Deposited(amount=1)])
        assert await store.read_all_of(["Opened"], START, 10) == Selection([], START, 0)
    finally:
        await early_transaction.__aexit__(None, None, None)
    seen = await store.read_all_of(["Opened"], START, 10)
    assert [r.stream_id for r in seen.events] == ["slow"] and seen.passed == 2


async def test_read_all_never_skips_an_event_that_commits_late_with_a_lower_position(store: EventStorage) -> None:
    early_transaction = store.transaction()
    early = await early_transaction.__aenter__()
    try:
        await store.append("slow", "account", 0, [Opened(owner="slow")], connection=early)  # the lower position
        async with store.transaction() as late:
            await store.append("fast", "account", 0, [Opened(owner="fast")], connection=late)
        assert await store.read_all(START) == [], "nothing is visible while an older transaction is still open"
        assert await store.committed_after(START), "yet the reader learns that something committed"
    finally:
        await early_transaction.__aexit__(None, None, None)
    seen = await store.read_all(START)
    assert [r.stream_id for r in seen] == ["slow", "fast"]
    assert seen[0].position < seen[1].position


async def test_a_transaction_sees_its_own_appends_others_see_them_once_it_commits(store: EventStorage) -> None:
    async with store.transaction() as connection:
        await store.append("own", "account", 0, [Opened(owner="ana")], connection=connection)
        await store.append("own", "account", 1, [Deposited(amount=3)], connection=connection)
        assert await store.stream_version("own", connection=connection) == 2
        assert len(await store.read_stream("own", connection=connection)) == 2
        assert await store.committed_after(START, connection=connection)
        assert await store.read_stream("own") == [] and await store.stream_version("own") == 0
        assert await store.read_all(START, connection=connection) == [], "read_all tells only committed events"
    assert (await store.load("own"))[1] == 2


async def test_a_transaction_that_fails_leaves_nothing_behind(store: EventStorage) -> None:
    with pytest.raises(RuntimeError):
        async with store.transaction() as connection:
            await store.append("undone", "account", 0, [Opened(owner="ana")], connection=connection)
            raise RuntimeError("the command failed after appending")
    assert await store.read_stream("undone") == []
    assert await store.read_all() == []
    await store.append("undone", "account", 0, [Opened(owner="bob")])
    assert (await store.load("undone"))[0] == [Opened(owner="bob")]


async def test_a_savepoint_that_fails_keeps_the_rest_of_its_transaction(store: EventStorage) -> None:
    async with store.transaction() as outer:
        await store.append("kept", "account", 0, [Opened(owner="ana")], connection=outer)
        with pytest.raises(StreamConflict):
            async with store.transaction(outer) as inner:
                await store.append("dropped", "account", 0, [Opened(owner="x")], connection=inner)
                await store.append("kept", "account", 0, [Opened(owner="y")], connection=inner)
        async with store.transaction(outer) as inner:
            await store.append("kept", "account", 1, [Deposited(amount=2)], connection=inner)
    assert [r.stream_id for r in await store.read_all()] == ["kept", "kept"]


async def test_the_later_of_two_overlapping_writers_of_a_stream_gets_the_conflict(store: EventStorage) -> None:
    async def second_writer() -> None:
        async with store.transaction() as connection:
            await store.append("contested", "account", 0, [Opened(owner="second")], connection=connection)

    async with store.transaction() as first:
        await store.append("contested", "account", 0, [Opened(owner="first")], connection=first)
        second = asyncio.create_task(second_writer())
        await asyncio.sleep(0.05)  # let it reach its append; either way it must lose
    with pytest.raises(StreamConflict):
        await asyncio.wait_for(second, timeout=10)
    assert (await store.load("contested"))[0] == [Opened(owner="first")]


async def test_recorded_after_tells_events_of_a_type_even_behind_an_open_transaction(store: EventStorage) -> None:
    await store.append("seen", "account", 0, [Opened(owner="seen")])
    checkpoint = (await store.read_all())[-1].global_position
    open_transaction = store.transaction()
    early = await open_transaction.__aenter__()
    try:
        await store.append("early", "account", 0, [Opened(owner="early")], connection=early)
        await store.append("later", "account", 0, [Opened(owner="later"), Deposited(amount=1)])
        assert await store.read_all(checkpoint) == [], "the open transaction holds read_all back"
        recorded = await store.recorded_after(checkpoint, ["Opened"])
        assert [r.stream_id for r in recorded] == ["later"]
        own = await store.recorded_after(checkpoint, ["Opened"], connection=early)
        assert [r.stream_id for r in own] == ["early", "later"], "in global order, with the transaction's own"
        assert [r.event_type for r in await store.recorded_after(checkpoint, ["Opened", "Deposited"])] == [
            "Opened",
            "Deposited",
        ]
        assert await store.recorded_after(recorded[-1].global_position, ["Opened"]) == []
    finally:
        await open_transaction.__aexit__(None, None, None)


async def test_fifty_concurrent_appenders_on_different_streams_lose_nothing(store: EventStorage) -> None:
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


async def test_concurrent_commands_on_one_stream_retry_and_all_land(store: EventStorage) -> None:
    await run_command(store, lambda u: u.execute(ACCOUNT, "shared", Open(owner="co-op")), metadata=Metadata())

    async def deposit(unit: UnitOfWork) -> None:
        await unit.execute(ACCOUNT, "shared", Deposit(amount=1))

    await asyncio.gather(*(run_command(store, deposit, metadata=Metadata(), retries=50) for _ in range(20)))
    events, version = await store.load("shared")
    assert version == 21
    assert ACCOUNT.fold(events).balance == 20


async def test_commands_that_lock_their_stream_queue_instead_of_conflicting(store: EventStorage) -> None:
    await run_command(store, lambda u: u.execute(ACCOUNT, "queued", Open(owner="co-op")), metadata=Metadata())

    async def deposit(unit: UnitOfWork) -> None:
        await unit.execute(ACCOUNT, "queued", Deposit(amount=1))
        await asyncio.sleep(0.01)  # hold the stream a moment, as a real command would

    await asyncio.gather(
        *(run_command(store, deposit, metadata=Metadata(), lock_streams=["queued"], retries=0) for _ in range(10))
    )
    assert (await store.load("queued"))[1] == 11


async def test_a_command_gives_up_after_its_retries(store: EventStorage) -> None:
    await store.append("raced", "account", 0, [Opened(owner="ana")])

    async def racing(unit: UnitOfWork) -> None:
        await unit.execute(ACCOUNT, "raced", Deposit(amount=1))
        await store.append("raced", "account", await unit.version("raced"), [Deposited(amount=100)])

    with pytest.raises(TooManyConflicts):
        await run_command(store, racing, metadata=Metadata(), retries=2)
    assert (await store.load("raced"))[1] == 4, "only the three racing appends landed"


async def test_readers_are_woken_after_a_commit_not_from_inside_a_callers_transaction(
    store: EventStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    woken: list[GlobalPosition] = []
    monkeypatch.setattr(store, "committed", lambda: woken.append(START))
    async with store.transaction() as connection:
        await store.append("quiet", "account", 0, [Opened(owner="x")], connection=connection)
        opening = Open(owner="x")
        await run_command(
            store, lambda u: u.execute(ACCOUNT, "quiet-too", opening), metadata=Metadata(), connection=connection
        )
    assert woken == [], "the caller commits its own transaction, and wakes the readers then"
    await run_command(store, lambda u: u.execute(ACCOUNT, "loud", Open(owner="y")), metadata=Metadata())
    assert len(woken) == 1
    await store.append("loud-too", "account", 0, [Opened(owner="z")])
    assert len(woken) == 2
