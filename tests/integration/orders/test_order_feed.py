"""An order's live feed (server-sent events) from a real server process, while another replica takes commands."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from services.orders.app import service
from tests.conftest import Servers
from tests.integration.orders.feed_server import feed_server_process, until_up
from tests.integration.orders.support import (
    AGGREGATOR,
    BUYER,
    OTHER_BUYER,
    PUBLISHED,
    Client,
    new_order,
    quote_body,
    register_buyer,
)
from tests.support.app import settings_for
from tests.support.standards import serve_knowing

pytestmark = pytest.mark.integration

WAIT = 10.0
"""Upper bound on how long a change may take to reach the stream."""


@pytest.fixture
def feed_server(database_url: str, servers: Servers, nats_prefix: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """The orders service in a uvicorn process of its own (no graceful-shutdown timeout: streams must end)."""
    with feed_server_process(
        database_url, servers.nats_url, nats_prefix, GOTONG_TEST_FEED_HEARTBEAT_SECONDS="0.5"
    ) as running:
        yield running


@pytest.fixture
async def replica(database_url: str, servers: Servers, nats_prefix: str) -> AsyncIterator[Client]:
    """Another replica of the service, in this process, where the commands go."""
    async with serve_knowing([service], settings_for(database_url, servers.nats_url, nats_prefix), PUBLISHED) as (
        client,
        _,
    ):
        await register_buyer(client)
        yield client


async def messages(response: httpx.Response) -> AsyncIterator[dict[str, str]]:
    """Server-sent events as dicts of their fields; a comment line comes as ``{"comment": ...}``."""
    message: dict[str, str] = {}
    async for line in response.aiter_lines():
        if line.startswith(":"):
            yield {"comment": line[1:].strip()}
        elif line:
            name, _, value = line.partition(":")
            message[name] = value.removeprefix(" ")
        elif message:
            yield message
            message = {}


async def next_event(stream: AsyncIterator[dict[str, str]]) -> dict[str, Any]:
    """The next message that is an event (heartbeats skipped), within the bounded wait."""
    async with asyncio.timeout(WAIT):
        async for message in stream:
            if "comment" not in message:
                return message
    raise AssertionError("the stream ended")


async def test_a_change_made_on_another_replica_reaches_the_open_stream(
    feed_server: tuple[str, subprocess.Popen[bytes]], replica: Client
) -> None:
    base, process = feed_server
    await until_up(base, process)
    order = await new_order(replica)
    url = f"/v1/orders/{order['id']}/events"
    async with httpx.AsyncClient(base_url=base, timeout=WAIT) as http:
        assert (await http.get(url, headers=OTHER_BUYER)).status_code == 404
        async with http.stream("GET", url, headers=BUYER) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            assert response.headers["cache-control"] == "no-cache"
            assert response.headers["x-accel-buffering"] == "no"
            stream = messages(response)
            current = await next_event(stream)
            assert (current["id"], current["event"]) == ("1", "OrderRequested")
            quoted = await replica.post(f"/v1/orders/{order['id']}/quote", json=quote_body(order), headers=AGGREGATOR)
            assert quoted.status_code == 200
            change = await next_event(stream)
            assert (change["id"], change["event"]) == ("2", "OrderQuoted")
            state = httpx.Response(200, content=change["data"]).json()
            assert state["state"] == "quoted" and state["version"] == 2
            assert state["quote"]["aggregator_org"] == "cirebon-rattan"
            async with asyncio.timeout(WAIT):
                async for message in stream:
                    if "comment" in message:
                        assert message["comment"] == "heartbeat"
                        break


async def test_last_event_id_replays_what_came_after_and_shutdown_ends_the_stream(
    feed_server: tuple[str, subprocess.Popen[bytes]], replica: Client
) -> None:
    base, process = feed_server
    order = await new_order(replica)
    await replica.post(f"/v1/orders/{order['id']}/quote", json=quote_body(order), headers=AGGREGATOR)
    await replica.post(f"/v1/orders/{order['id']}/confirm", headers=BUYER)
    await until_up(base, process)
    url = f"/v1/orders/{order['id']}/events"
    async with httpx.AsyncClient(base_url=base, timeout=WAIT) as http:
        bad = await http.get(url, headers={**BUYER, "Last-Event-ID": "latest"})
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "Last-Event-ID"
        async with http.stream("GET", url, headers={**BUYER, "Last-Event-ID": "1"}) as response:
            stream = messages(response)
            replayed = [await next_event(stream), await next_event(stream)]
            assert [(m["id"], m["event"]) for m in replayed] == [("2", "OrderQuoted"), ("3", "OrderConfirmed")]
            loop = asyncio.get_running_loop()
            asked = loop.time()
            process.send_signal(signal.SIGTERM)
            async with asyncio.timeout(WAIT):
                async for _ in stream:
                    pass
            ended = loop.time() - asked
    assert ended < 3.0, f"the stream took {ended:.1f} s to end"
    # uvicorn shuts down gracefully, then re-raises the signal it caught, so the process ends by SIGTERM.
    assert await asyncio.to_thread(process.wait, WAIT) in (0, -signal.SIGTERM)
    exited = loop.time() - asked
    assert exited < 5.0, f"the server took {exited:.1f} s to shut down"
