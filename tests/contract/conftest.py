"""Every event store adapter, for the contract tests: in memory (a unit test) and on PostgreSQL."""

from __future__ import annotations

import asyncpg
import pytest

from shared.eventstore import EventStorage, EventStore
from shared.memory_store import MemoryEventStore
from tests.support.ledger import CODEC, ledger_store


@pytest.fixture
async def postgres_store(pool: asyncpg.Pool) -> EventStore:
    return await ledger_store(pool)


@pytest.fixture(
    params=[
        pytest.param("memory", marks=pytest.mark.unit),
        pytest.param("postgres", marks=pytest.mark.integration),
    ]
)
def store(request: pytest.FixtureRequest) -> EventStorage:
    """The ledger's store on each adapter; only the PostgreSQL one starts a database."""
    if request.param == "memory":
        return MemoryEventStore("ledger", CODEC)
    postgres: EventStore = request.getfixturevalue("postgres_store")
    return postgres
