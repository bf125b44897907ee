"""Pooling's capacity ledger events, relayed for real through NATS, keep committed and available capacity."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from uuid import UUID

import asyncpg
import pytest

from events.pooling import CODEC as POOLING_CODEC
from events.pooling import CapacityCommitted, CapacityReleased
from shared import bus
from shared.eventstore import EventStore, Metadata, StreamAppend
from shared.migrations import migrate
from shared.relay import Relay
from tests.conftest import Servers
from tests.integration.catalog.conftest import BUYER, WEAVERS, Catalog

pytestmark = pytest.mark.integration

POOL = UUID("01890000-0000-7000-8000-0000000000a1")
REQUEST = UUID("01890000-0000-7000-8000-0000000000b1")


class Pooling:
    """Pooling's event store in the test database, relayed to the test's NATS prefix."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self.versions: dict[str, int] = {}

    async def append(self, event: CapacityCommitted | CapacityReleased) -> None:
        stream = f"capacity:{event.product_id}:{event.month}"
        version = self.versions.get(stream, 0)
        await self.store.append_many([StreamAppend(stream, "capacity", version, [event], Metadata(actor="pooling"))])
        self.versions[stream] = version + 1


@pytest.fixture
async def pooling(catalog: Catalog, database_url: str, servers: Servers, nats_prefix: str) -> AsyncIterator[Pooling]:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=3)
    assert pool is not None
    async with pool.acquire() as connection:
        await migrate(connection, "pooling", [])
    nats = await bus.connect(servers.nats_url)
    store = EventStore(pool, "pooling", POOLING_CODEC)
    relay = asyncio.create_task(Relay(store, database_url, nats.jetstream(), nats_prefix, poll_seconds=0.1).run())
    try:
        yield Pooling(store)
    finally:
        relay.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await relay
        await nats.drain()
        await pool.close()


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 15.0) -> None:
    """Wait (bounded) until ``check`` holds; fails the test when it never does."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "the effect never arrived"
        await asyncio.sleep(0.05)


def committed(product_id: UUID, month: str, units: int, total: int) -> CapacityCommitted:
    return CapacityCommitted(
        product_id=product_id, msme_id=POOL, month=month, units=units, committed=total, request_id=REQUEST, pool_id=POOL
    )


async def test_committed_capacity_comes_from_pooling_and_available_never_goes_negative(
    catalog: Catalog, pooling: Pooling
) -> None:
    msme = await catalog.register(WEAVERS)
    product = await catalog.list_product(msme["id"])
    product_id = UUID(product["id"])
    declared = await catalog.client.put(
        f"/v1/products/{product_id}/capacity", json={"months": {"2026-11": 300, "2026-12": 300}}, headers=WEAVERS
    )
    url = f"/v1/products/{product_id}?wait_for_position={declared.json()['position']}"

    async def capacity() -> dict[str, tuple[int, int, int]]:
        months = (await catalog.client.get(url, headers=BUYER)).json()["capacity"]
        return {m["month"]: (m["declared"], m["committed"], m["available"]) for m in months}

    await pooling.append(committed(product_id, "2026-11", 120, 120))
    await pooling.append(committed(product_id, "2026-12", 350, 350))  # pooling may record an over-commitment

    async def booked() -> bool:
        return await capacity() == {"2026-11": (300, 120, 180), "2026-12": (300, 350, 0)}

    await eventually(booked)
    search = await catalog.client.get("/v1/products?min_available=181&available_from=2026-11", headers=BUYER)
    assert search.json()["items"] == []
    search = await catalog.client.get("/v1/products?min_available=180&available_from=2026-11", headers=BUYER)
    assert [item["available"] for item in search.json()["items"]] == [180]

    await pooling.append(
        CapacityReleased(
            product_id=product_id,
            msme_id=POOL,
            month="2026-11",
            units=100,
            committed=20,
            request_id=REQUEST,
            pool_id=POOL,
            reason="order cancelled",
        )
    )

    async def released() -> bool:
        return (await capacity())["2026-11"] == (300, 20, 280)

    await eventually(released)
    # Declaring again keeps what pooling committed.
    again = await catalog.client.put(
        f"/v1/products/{product_id}/capacity", json={"months": {"2026-11": 250}}, headers=WEAVERS
    )
    assert again.json()["capacity"][0] == {"month": "2026-11", "declared": 250, "committed": 20, "available": 230}
    url = f"/v1/products/{product_id}?wait_for_position={again.json()['position']}"
    assert (await capacity())["2026-11"] == (250, 20, 230)
