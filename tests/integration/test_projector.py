"""A service's projector keeps all its projections current: one far behind does not hold back the others."""

from __future__ import annotations

import asyncpg
import pytest

from events.base import Event, event_names
from shared.eventstore import Connection, EventStore, RecordedEvent
from shared.migrations import migrate
from shared.projection import Projection, Projector, Tables
from tests.support.ledger import CODEC, Deposited, Opened
from tests.support.ledger_service import ledger_service

pytestmark = pytest.mark.integration


async def test_a_projection_behind_gets_a_batch_in_turn_with_the_others(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as connection:
        await migrate(connection, "ledger", ledger_service.migrations)
    store = EventStore(pool, "ledger", CODEC)
    for n in range(35):
        await store.append(f"account-{n}", "account", 0, [Opened(owner=f"owner {n}")])
    positions = [row["position"] for row in await pool.fetch("SELECT position FROM ledger.events ORDER BY position")]
    accounts_reached: list[int] = []  # where the accounts projection stood as each event reached the watcher

    async def watch(connection: Connection, tables: Tables, event: Event, record: RecordedEvent) -> None:
        accounts_reached.append(
            await connection.fetchval("SELECT position FROM ledger.checkpoints WHERE name = 'projection:accounts'")
        )

    projections = [*ledger_service.projections, Projection("watcher", [], watch)]

    assert await Projector(store, projections, batch=10).catch_up() == 70

    # the watcher took each batch right after the accounts projection took the same one, not after all of them
    assert accounts_reached == [positions[min(n // 10 * 10 + 9, 34)] for n in range(35)]
    assert await pool.fetchval("SELECT count(*) FROM ledger.accounts") == 35


async def test_a_projection_of_a_few_types_is_sent_only_those_and_goes_past_the_rest(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as connection:
        await migrate(connection, "ledger", ledger_service.migrations)
    store = EventStore(pool, "ledger", CODEC)
    for n in range(35):
        events = [Opened(owner=f"owner {n}"), *([Deposited(amount=n)] if n % 7 == 3 else [])]
        await store.append(f"account-{n}", "account", 0, events)
    last = await pool.fetchval("SELECT max(position) FROM ledger.events")
    sent: list[tuple[str, int]] = []

    async def watch(connection: Connection, tables: Tables, event: Event, record: RecordedEvent) -> None:
        sent.append((record.event_type, record.stream_version))

    deposits = Projection("deposits", [], watch, takes=event_names(Deposited))
    projector = Projector(store, [deposits], batch=10)

    assert await projector.catch_up() == 40, "every event gone past, in batches of ten"
    assert sent == [("Deposited", 2)] * 5
    assert await pool.fetchval("SELECT position FROM ledger.checkpoints WHERE name = 'projection:deposits'") == last
    assert await projector.reached(last), "past the Opened at the end, which it was never sent"
    assert await projector.catch_up() == 0
