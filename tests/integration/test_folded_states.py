"""A command folds only the events after the state its process kept, and never trusts a state it should not."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from shared.decider import UnitOfWork, fold_stream, folded_states, run_command
from shared.eventstore import EventStore, Metadata
from tests.support.ledger import ACCOUNT, Account, Deposit, Open, ledger_store

pytestmark = pytest.mark.integration


@pytest.fixture
async def store(pool: asyncpg.Pool) -> EventStore:
    return await ledger_store(pool)


def reads_after(store: EventStore, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The ``after_version`` of every stream read on ``store`` from now on."""
    seen: list[int] = []
    read = store.read_stream

    async def spying(stream_id: str, *, after_version: int = 0, connection: Any = None) -> Any:
        seen.append(after_version)
        return await read(stream_id, after_version=after_version, connection=connection)

    monkeypatch.setattr(store, "read_stream", spying)
    return seen


async def deposit(store: EventStore, stream: str, amount: int) -> Account:
    outcome = await run_command(
        store, lambda unit: unit.execute(ACCOUNT, stream, Deposit(amount=amount)), metadata=Metadata()
    )
    state: Account = outcome.value[0]
    return state


async def test_a_command_reads_only_the_events_after_the_state_kept_from_the_last_one(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    await run_command(store, lambda unit: unit.execute(ACCOUNT, "kept", Open(owner="ana")), metadata=Metadata())
    reads = reads_after(store, monkeypatch)
    for amount in range(1, 6):
        assert (await deposit(store, "kept", amount)).balance == sum(range(1, amount + 1))
    assert reads == [1, 2, 3, 4, 5]


async def test_events_another_process_appended_are_folded_onto_the_kept_state(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    await run_command(store, lambda unit: unit.execute(ACCOUNT, "shared", Open(owner="co-op")), metadata=Metadata())
    await deposit(store, "shared", 10)
    replica = EventStore(pool, store.schema, store.codec)  # another process on the same streams
    await deposit(replica, "shared", 5)
    await deposit(replica, "shared", 7)
    assert (await deposit(store, "shared", 1)).balance == 23


async def test_a_state_kept_ahead_of_its_stream_is_dropped_at_the_conflict_and_the_command_lands(
    store: EventStore,
) -> None:
    await run_command(store, lambda unit: unit.execute(ACCOUNT, "drift", Open(owner="ana")), metadata=Metadata())
    folded_states(store).remember(ACCOUNT, "drift", 40, Account(owner="ana", balance=1_000))
    assert (await deposit(store, "drift", 3)).balance == 3
    events, version = await store.load("drift")
    assert version == 2 and ACCOUNT.fold(events).balance == 3


async def test_a_command_inside_a_transaction_that_rolls_back_leaves_no_state_behind(
    store: EventStore, pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    await run_command(store, lambda unit: unit.execute(ACCOUNT, "undone", Open(owner="ana")), metadata=Metadata())

    async def work(unit: UnitOfWork) -> None:
        await unit.execute(ACCOUNT, "undone", Deposit(amount=50))

    async with pool.acquire() as connection:
        transaction = connection.transaction()
        await transaction.start()
        await run_command(store, work, metadata=Metadata(), connection=connection)
        await transaction.rollback()
    reads = reads_after(store, monkeypatch)
    assert (await deposit(store, "undone", 1)).balance == 1
    assert reads == [1]


async def test_a_read_keeps_what_it_folded_only_when_it_read_committed_events(
    store: EventStore, pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    await run_command(store, lambda unit: unit.execute(ACCOUNT, "read", Open(owner="ana")), metadata=Metadata())
    await deposit(EventStore(pool, store.schema, store.codec), "read", 4)  # by another process
    reads = reads_after(store, monkeypatch)
    async with pool.acquire() as connection, connection.transaction():
        assert (await fold_stream(store, ACCOUNT, "read", connection=connection)) == (Account("ana", 4), 2)
    assert (await fold_stream(store, ACCOUNT, "read")) == (Account("ana", 4), 2)
    assert (await fold_stream(store, ACCOUNT, "read")) == (Account("ana", 4), 2)
    assert reads == [1, 1, 2]
