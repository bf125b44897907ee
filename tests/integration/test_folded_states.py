"""Another process appending to the same PostgreSQL streams: its events are folded onto the state this process
kept. (What every adapter promises about kept states is in tests/contract.)"""

from __future__ import annotations

import asyncpg
import pytest

from shared.decider import fold_stream, run_command
from shared.eventstore import EventStore, Metadata
from tests.support.ledger import ACCOUNT, Account, Open, deposit, ledger_store, reads_after

pytestmark = pytest.mark.integration


@pytest.fixture
async def store(pool: asyncpg.Pool) -> EventStore:
    return await ledger_store(pool)


async def test_events_another_process_appended_are_folded_onto_the_kept_state(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    await run_command(store, lambda unit: unit.execute(ACCOUNT, "shared", Open(owner="co-op")), metadata=Metadata())
    await deposit(store, "shared", 10)
    replica = EventStore(pool, store.schema, store.codec)  # another process on the same streams
    await deposit(replica, "shared", 5)
    await deposit(replica, "shared", 7)
    assert (await deposit(store, "shared", 1)).balance == 23


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
