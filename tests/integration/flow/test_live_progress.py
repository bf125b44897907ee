"""A buyer watching an order's live feed, served by an orders process of its own, sees supply move each line
while the other services (in this process) pool, allocate and book it."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import Servers
from tests.integration.flow.marketplace import BUYER, Marketplace
from tests.integration.flow.test_shortfalls import pooled_order, two_workshops
from tests.integration.orders.feed_server import feed_server_process, until_up

pytestmark = pytest.mark.integration

WAIT = 20.0


@pytest.fixture
def orders_process(
    database_url: str, servers: Servers, nats_prefix: str
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Another replica of the orders service, in a uvicorn process of its own."""
    with feed_server_process(database_url, servers.nats_url, nats_prefix) as running:
        yield running


async def events(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    """The stream's messages that carry an event (heartbeats left out), with their data decoded."""
    message: dict[str, Any] = {}
    async for line in response.aiter_lines():
        if line.startswith(":"):
            continue
        if line:
            name, _, value = line.partition(":")
            message[name] = value.removeprefix(" ")
        elif message:
            message["data"] = json.loads(message["data"])
            yield message
            message = {}


async def first(stream: AsyncIterator[dict[str, Any]], event: str, check: Any = lambda data: True) -> dict[str, Any]:
    async with asyncio.timeout(WAIT):
        async for message in stream:
            if message["event"] == event and check(message["data"]):
                return message
    raise AssertionError("the stream ended")


async def test_the_live_feed_sends_each_change_of_a_lines_progress_and_the_order_moving_on(
    market: Marketplace, orders_process: tuple[str, subprocess.Popen[bytes]]
) -> None:
    standard, jepara, _, pool_id = await two_workshops(market)
    order_id = await pooled_order(market, standard, pool_id, 500)
    base, process = orders_process
    await until_up(base, process)
    url = f"/v1/orders/{order_id}/events"
    async with (
        httpx.AsyncClient(base_url=base, timeout=WAIT) as http,
        http.stream("GET", url, headers=BUYER) as response,
    ):
        assert response.status_code == 200
        stream = events(response)
        current = await first(stream, "OrderConfirmed")
        assert current["id"] == "3"

        await market.allocate(pool_id, msmes=2)
        asked = await first(stream, "LineProgress", lambda d: d["lines"][0]["progress"]["allocated"] == 500)
        assert asked["id"] == "3" and asked["data"]["lines"][0]["progress"]["accepted"] == 0

        await market.accept(jepara)
        moved = await first(stream, "OrderInProduction")
        assert moved["id"] == "4" and moved["data"]["state"] == "in_production"
        assert moved["data"]["lines"][0]["progress"]["accepted"] == 500
