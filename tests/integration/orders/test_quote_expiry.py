"""Quotes lapse on their own when their validity ends, fired by the due-action worker on the service's clock."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from services.orders.app import service
from services.orders.commands import QUOTE_EXPIRY
from services.orders.expiry import lapse_quote
from shared.eventstore import EventStore
from shared.kernel.clock import ManualClock
from shared.projection import Projector
from shared.runtime import Runtime
from shared.schedule import fire_due_actions
from shared.service import ServiceContext
from tests.conftest import Servers
from tests.integration.orders.support import (
    AGGREGATOR,
    BUYER,
    OTHER_AGGREGATOR,
    PUBLISHED,
    Client,
    new_order,
    quote_body,
    register_buyer,
)
from tests.support.app import settings_for
from tests.support.standards import serve_knowing

pytestmark = pytest.mark.integration

START = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
async def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
async def app(
    database_url: str, servers: Servers, nats_prefix: str, clock: ManualClock
) -> AsyncIterator[tuple[Client, Runtime]]:
    settings = settings_for(database_url, servers.nats_url, nats_prefix)
    async with serve_knowing([service], settings, PUBLISHED, clock=clock) as (client, runtime):
        await register_buyer(client)
        yield client, runtime


async def quote(client: Client, order: dict[str, Any], hours: int, headers: dict[str, str] = AGGREGATOR) -> Any:
    body = quote_body(order, valid_for=timedelta(hours=hours), now=START)
    response = await client.post(f"/v1/orders/{order['id']}/quote", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def wait_for_state(client: Client, order_id: str, state: str, timeout: float = 10.0) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        body = (await client.get(f"/v1/orders/{order_id}", headers=BUYER)).json()
        if body["state"] == state or loop.time() > deadline:
            return body
        await asyncio.sleep(0.05)


async def test_confirming_after_valid_until_is_409_quote_expired(
    app: tuple[Client, Runtime], clock: ManualClock
) -> None:
    client, _ = app
    order = await new_order(client)
    await quote(client, order, hours=1)
    clock.advance(timedelta(hours=1))
    response = await client.post(f"/v1/orders/{order['id']}/confirm", headers=BUYER)
    assert response.status_code == 409, response.text
    problem = response.json()
    assert problem["type"] == "/problems/quote-expired" and problem["state"] in ("quoted", "requested")
    assert "expired" in problem["detail"]


async def test_the_worker_lapses_a_quote_without_anyone_acting(app: tuple[Client, Runtime], clock: ManualClock) -> None:
    client, _ = app
    order = await new_order(client)
    quoted = await quote(client, order, hours=1)
    read = await client.get(f"/v1/orders/{order['id']}?wait_for_position={quoted['position']}", headers=BUYER)
    assert read.json()["state"] == "quoted"
    clock.advance(timedelta(hours=1, seconds=1))
    lapsed = await wait_for_state(client, order["id"], "requested")
    assert lapsed["state"] == "requested" and lapsed["quote"] is None
    assert lapsed["lapsed_quote"]["aggregator_org"] == "cirebon-rattan"
    history = (await client.get(f"/v1/orders/{order['id']}/history", headers=BUYER)).json()["items"]
    assert history[-1]["event"] == "QuoteExpired" and history[-1]["actor"] == "orders:quote-expiry"
    assert "open for quotes again" in history[-1]["summary"]
    fresh = await quote(client, order, hours=5, headers=OTHER_AGGREGATOR)
    assert fresh["aggregator_org"] == "surabaya-crafts" and fresh["quote"]["number"] == 2


async def test_a_requote_moves_the_deadline(
    app: tuple[Client, Runtime], clock: ManualClock, pool: asyncpg.Pool
) -> None:
    client, runtime = app
    ctx = context_on(pool, runtime, clock)
    order = await new_order(client)
    await quote(client, order, hours=1)
    await quote(client, order, hours=3)
    row = await ctx.pool.fetchrow(
        "SELECT due_at, payload::text AS payload FROM orders.due_actions WHERE subject = $1", order["id"]
    )
    assert (
        row is not None
        and row["due_at"] == START + timedelta(hours=3)
        and json.loads(row["payload"]) == {"quote_number": 2}
    )
    clock.advance(timedelta(hours=2))
    assert await fire_due_actions(ctx, {QUOTE_EXPIRY: lapse_quote}) == 0
    confirmed = await client.post(f"/v1/orders/{order['id']}/confirm", headers=BUYER)
    assert confirmed.status_code == 200 and confirmed.json()["state"] == "confirmed"
    clock.advance(timedelta(hours=2))
    await wait_until_done(pool, order["id"])
    history = (await client.get(f"/v1/orders/{order['id']}/history", headers=BUYER)).json()["items"]
    assert [i["event"] for i in history] == ["OrderRequested", "OrderQuoted", "OrderQuoted", "OrderConfirmed"]


def context_on(pool: asyncpg.Pool, runtime: Runtime, clock: ManualClock) -> ServiceContext:
    """The orders service's context on this test's own pool (the app serves from another event loop)."""
    store = EventStore(pool, "orders", service.codec)
    return ServiceContext(service, runtime.settings, pool, store, clock, runtime.tokens, Projector(store, []))


async def wait_until_done(connection: asyncpg.Pool, subject: str, timeout: float = 10.0) -> None:
    """The worker fires the due action (a no-op on a confirmed order) and marks it done."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while await connection.fetchval("SELECT done_at FROM orders.due_actions WHERE subject = $1", subject) is None:
        assert loop.time() < deadline, "the due action was never fired"
        await asyncio.sleep(0.05)
