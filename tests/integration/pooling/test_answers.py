"""Answering an allocation request reads the request's stream once, and answers only for the caller's MSMEs."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from uuid import UUID

import asyncpg
import pytest

from events.pooling import CODEC
from services.pooling.domain.allocation_request import request_stream
from services.pooling.use_cases import allocation_requests
from shared.eventstore import Connection, EventStore, Metadata, RecordedEvent
from shared.kernel.errors import NotFound
from shared.kernel.ids import new_id
from tests.conftest import Servers
from tests.integration.pooling.harness import AGGREGATOR, Pooling, running_pooling
from tests.integration.pooling.test_reallocation import allocate, pending_for

pytestmark = pytest.mark.integration


@pytest.fixture
async def pooling(database_url: str, servers: Servers, nats_prefix: str, pool: asyncpg.Pool) -> AsyncIterator[Pooling]:
    async with running_pooling(database_url, servers.nats_url, nats_prefix, pool) as running:
        yield running


class CountingStore(EventStore):
    """Pooling's real event store, counting how often each stream is read."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        super().__init__(pool, "pooling", CODEC)
        self.reads: Counter[str] = Counter()

    async def read_stream(
        self, stream_id: str, *, after_version: int = 0, connection: Connection | None = None
    ) -> list[RecordedEvent]:
        self.reads[stream_id] += 1
        return await super().read_stream(stream_id, after_version=after_version, connection=connection)


async def pending_request(pooling: Pooling) -> tuple[UUID, UUID]:
    msme_id, _ = await pooling.msme("rotan-a", capacity={"2027-02": 1_000})
    pool = await pooling.open_pool()
    await pooling.confirm_order([400])
    await pooling.pool_where(pool["id"], lambda p: p["demand"] == 400)
    await allocate(pooling, pool["id"])
    request = await pending_for(pooling, "rotan-a")
    return UUID(request["id"]), msme_id


async def test_accepting_a_request_folds_its_stream_once(pooling: Pooling) -> None:
    request_id, msme_id = await pending_request(pooling)
    store = CountingStore(pooling.db)
    outcome = await allocation_requests.accept(
        store, request_id, 300, answering_for={msme_id}, by="msme:siti", at=pooling.clock.now(),
        metadata=Metadata(actor="msme:siti", command_id=str(new_id())),
    )  # fmt: skip
    assert outcome.value.status == "accepted" and outcome.value.accepted == 300
    assert store.reads[request_stream(request_id)] == 1


async def test_declining_a_request_folds_its_stream_once(pooling: Pooling) -> None:
    request_id, msme_id = await pending_request(pooling)
    store = CountingStore(pooling.db)
    outcome = await allocation_requests.decline(
        store, request_id, "no rattan this month", answering_for={msme_id}, by="msme:siti", at=pooling.clock.now(),
        metadata=Metadata(actor="msme:siti", command_id=str(new_id())),
    )  # fmt: skip
    assert outcome.value.status == "declined"
    assert store.reads[request_stream(request_id)] == 1


async def test_a_request_to_another_msme_is_not_found(pooling: Pooling) -> None:
    request_id, _ = await pending_request(pooling)
    with pytest.raises(NotFound):
        await allocation_requests.accept(
            pooling.store, request_id, None, answering_for={new_id()}, by="msme:siti", at=pooling.clock.now(),
            metadata=Metadata(actor="msme:siti", command_id=str(new_id())),
        )  # fmt: skip
    response = await pooling.client.get(f"/v1/allocation-requests/{request_id}", headers=AGGREGATOR)
    assert response.status_code == 200 and response.json()["status"] == "pending"
