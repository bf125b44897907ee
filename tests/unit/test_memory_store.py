"""What only the in-memory event store does: two transactions waiting for each other do not hang."""

from __future__ import annotations

import asyncio

import pytest

from shared.eventstore import StreamConflict
from shared.memory_store import MemoryEventStore
from tests.support.ledger import CODEC, Opened

pytestmark = pytest.mark.unit


async def test_two_transactions_waiting_for_each_other_end_with_a_conflict_not_a_hang() -> None:
    store = MemoryEventStore("ledger", CODEC)
    both_appended = asyncio.Barrier(2)

    async def writer(first: str, then: str) -> None:
        async with store.transaction() as connection:
            await store.append(first, "account", 0, [Opened(owner=first)], connection=connection)
            await both_appended.wait()
            await store.append(then, "account", 0, [Opened(owner=first)], connection=connection)

    results = await asyncio.wait_for(
        asyncio.gather(writer("a", "b"), writer("b", "a"), return_exceptions=True), timeout=10
    )
    conflicts = [r for r in results if isinstance(r, StreamConflict)]
    assert len(conflicts) == 1 and results.count(None) == 1
    assert {r.stream_id for r in await store.read_all()} == {"a", "b"}, "the winner's appends both landed"
