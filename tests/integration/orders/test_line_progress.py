"""Per-line progress: the projection functions pooling's and quality's events will drive, shown on the order."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from uuid import UUID

import asyncpg
import pytest

from services.orders.app import service
from services.orders.read.progress import LineProgress, add_line_progress, progress_of, set_line_progress
from tests.conftest import Servers
from tests.integration.orders.support import BUYER, PUBLISHED, Client, new_order, register_buyer
from tests.support.app import settings_for
from tests.support.standards import serve_knowing

pytestmark = pytest.mark.integration

AT = datetime(2027, 2, 1, tzinfo=UTC)


@pytest.fixture
async def client(database_url: str, servers: Servers, nats_prefix: str) -> AsyncIterator[Client]:
    async with serve_knowing([service], settings_for(database_url, servers.nats_url, nats_prefix), PUBLISHED) as (
        client,
        _,
    ):
        await register_buyer(client)
        yield client


async def test_progress_accumulates_per_line_and_shows_on_the_order(client: Client, pool: asyncpg.Pool) -> None:
    order = await new_order(client)
    order_id = UUID(order["id"])
    baskets, trays = (UUID(line["line_id"]) for line in order["lines"])
    async with pool.acquire() as connection, connection.transaction():
        await add_line_progress(connection, order_id, baskets, "allocated", 12_000, AT)
        await add_line_progress(connection, order_id, baskets, "allocated", 8_000, AT)
        await add_line_progress(connection, order_id, baskets, "accepted", 9_500, AT)
        await add_line_progress(connection, order_id, baskets, "allocated", -3_000, AT)
        await add_line_progress(connection, order_id, trays, "delivered", -10, AT)
        await set_line_progress(connection, order_id, trays, "passed", 1_250, AT)
    progress = await progress_of(pool, order_id)
    assert progress[baskets] == LineProgress(allocated=17_000, accepted=9_500)
    assert progress[trays] == LineProgress(passed=1_250)
    read = await client.get(f"/v1/orders/{order['id']}?wait_for_position={order['position']}", headers=BUYER)
    lines = read.json()["lines"]
    assert lines[0]["progress"] == {"allocated": 17_000, "accepted": 9_500, "delivered": 0, "passed": 0, "shipped": 0}
    assert lines[1]["progress"]["passed"] == 1_250 and lines[1]["progress"]["delivered"] == 0
