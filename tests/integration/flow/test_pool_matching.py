"""A confirmed order line joins a pool the aggregator opened a moment before, even while pooling's read models
have not caught up with the opening yet (the demand saga also reads the tail of pooling's own store)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from tests.conftest import Servers
from tests.integration.pooling.harness import AGGREGATOR, RATTAN, Pooling, eventually, running_pooling

pytestmark = pytest.mark.integration


@pytest.fixture
async def pooling(database_url: str, servers: Servers, nats_prefix: str, pool: asyncpg.Pool) -> AsyncIterator[Pooling]:
    async with running_pooling(database_url, servers.nats_url, nats_prefix, pool) as running:
        yield running


async def test_a_line_confirmed_right_after_its_pool_opened_joins_it(pooling: Pooling) -> None:
    (projector,) = [t for t in pooling.runtime._tasks if t.get_name() == "projector:pooling"]
    projector.cancel()  # the pools read model stands still from here on
    body = {
        "name": "Rattan baskets",
        "hs_code": RATTAN,
        "standard_id": str(pooling.standard_id),
        "standard_version": 1,
        "unit": "PCE",
        "currency": "USD",
        "consolidation_point": "Semarang",
    }
    opened = await pooling.client.post("/v1/pools", json=body, headers=AGGREGATOR)
    assert opened.status_code == 201, opened.text
    order_id, (line_id,) = await pooling.confirm_order([350])

    async def joined() -> dict[str, object] | None:
        pool: dict[str, object] = await pooling.get(f"/v1/pools/{opened.json()['id']}")
        return pool if pool["demand"] == 350 else None

    pool = await eventually(joined)
    assert pool["lines"] == [
        {
            "order_id": str(order_id),
            "line_id": str(line_id),
            "buyer_org": "rotterdam-home",
            "required_by": "2027-04-01",
            "demand": 350,
            "accepted": 0,
            "delivered": 0,
            "passed": 0,
            "shipped": 0,
        }
    ]
    rows = await pooling.db.fetch("SELECT count(*) FROM pooling.pools")
    assert rows[0][0] == 0, "the read model really did not know the pool"
