"""On every adapter, a command folds only the events after the state its process kept, and never keeps a state
it should not."""

from __future__ import annotations

import pytest

from shared.decider import UnitOfWork, fold_stream, folded_states, run_command
from shared.eventstore import EventStorage, Metadata
from tests.support.ledger import ACCOUNT, Account, Deposit, Deposited, Open, Opened, deposit, reads_after


async def test_a_command_reads_only_the_events_after_the_state_kept_from_the_last_one(
    store: EventStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    await run_command(store, lambda unit: unit.execute(ACCOUNT, "kept", Open(owner="ana")), metadata=Metadata())
    reads = reads_after(store, monkeypatch)
    for amount in range(1, 6):
        assert (await deposit(store, "kept", amount)).balance == sum(range(1, amount + 1))
    assert reads == [1, 2, 3, 4, 5]


async def test_a_state_kept_ahead_of_its_stream_is_dropped_at_the_conflict_and_the_command_lands(
    store: EventStorage,
) -> None:
    await run_command(store, lambda unit: unit.execute(ACCOUNT, "drift", Open(owner="ana")), metadata=Metadata())
    folded_states(store).remember(ACCOUNT, "drift", 40, Account(owner="ana", balance=1_000))
    assert (await deposit(store, "drift", 3)).balance == 3
    events, version = await store.load("drift")
    assert version == 2 and ACCOUNT.fold(events).balance == 3


async def test_a_command_inside_a_transaction_that_rolls_back_leaves_no_state_behind(
    store: EventStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    await run_command(store, lambda unit: unit.execute(ACCOUNT, "undone", Open(owner="ana")), metadata=Metadata())

    async def work(unit: UnitOfWork) -> None:
        await unit.execute(ACCOUNT, "undone", Deposit(amount=50))

    with pytest.raises(LookupError):
        async with store.transaction() as connection:
            await run_command(store, work, metadata=Metadata(), connection=connection)
            raise LookupError("the caller's transaction fails after the command")
    reads = reads_after(store, monkeypatch)
    assert (await deposit(store, "undone", 1)).balance == 1
    assert reads == [1]


async def test_a_read_keeps_what_it_folded_only_when_it_read_committed_events(
    store: EventStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    await run_command(store, lambda unit: unit.execute(ACCOUNT, "read", Open(owner="ana")), metadata=Metadata())
    await store.append("read", "account", 1, [Deposited(amount=4)])  # not through a command: nothing kept
    reads = reads_after(store, monkeypatch)
    async with store.transaction() as connection:
        assert (await fold_stream(store, ACCOUNT, "read", connection=connection)) == (Account("ana", 4), 2)
    assert (await fold_stream(store, ACCOUNT, "read")) == (Account("ana", 4), 2)
    assert (await fold_stream(store, ACCOUNT, "read")) == (Account("ana", 4), 2)
    assert reads == [1, 1, 2]


async def test_a_stream_read_ahead_is_loaded_without_another_read_and_appended_where_it_is_loaded(
    store: EventStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    for stream in ("first", "ahead"):
        await store.append(stream, "account", 0, [Opened(owner="ana"), Deposited(amount=1)])
    reads = reads_after(store, monkeypatch)

    async def work(unit: UnitOfWork) -> list[str]:
        await unit.read_ahead(ACCOUNT, ["ahead"])
        await unit.execute(ACCOUNT, "first", Deposit(amount=2))
        await unit.execute(ACCOUNT, "ahead", Deposit(amount=3))
        return [a.stream_id for a in unit.appends(Metadata())]

    outcome = await run_command(store, work, metadata=Metadata())
    assert outcome.value == ["first", "ahead"], "the stream read ahead keeps the place of its first load"
    assert sorted(reads) == [0, 0], "each stream read once"
    assert outcome.versions == {"first": 3, "ahead": 3}
    assert ACCOUNT.fold((await store.load("ahead"))[0]).balance == 4
