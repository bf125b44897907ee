"""Listing orders: filters by state, buyer and required-by range, cursor pages, and what each caller sees."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest

from services.orders.app import service
from tests.conftest import Servers
from tests.integration.orders.support import (
    ADMIN,
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


def due(days: int) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


@pytest.fixture
async def client(database_url: str, servers: Servers, nats_prefix: str) -> AsyncIterator[Client]:
    async with serve_knowing([service], settings_for(database_url, servers.nats_url, nats_prefix), PUBLISHED) as (
        client,
        _,
    ):
        await register_buyer(client)
        await register_buyer(client, OTHER_BUYER, name="Osaka Trading K.K.")
        yield client


async def test_filters_and_pages(client: Client) -> None:
    march = await new_order(client, required_by=due(60))
    april = await new_order(client, required_by=due(90))
    may = await new_order(client, required_by=due(120))
    osaka = await new_order(client, OTHER_BUYER, required_by=due(90))
    quoted = await client.post(f"/v1/orders/{april['id']}/quote", json=quote_body(april), headers=AGGREGATOR)
    position = quoted.json()["position"]

    everything = await client.get(f"/v1/orders?wait_for_position={position}", headers=BUYER)
    assert [o["id"] for o in everything.json()["items"]] == [march["id"], april["id"], may["id"]]
    assert everything.json()["next_cursor"] is None
    summary = everything.json()["items"][1]
    assert summary["state"] == "quoted" and summary["lines"] == 2 and summary["aggregator_org"] == "cirebon-rattan"

    first = (await client.get("/v1/orders?limit=2", headers=BUYER)).json()
    assert [o["id"] for o in first["items"]] == [march["id"], april["id"]] and first["next_cursor"]
    rest = (await client.get(f"/v1/orders?limit=2&cursor={first['next_cursor']}", headers=BUYER)).json()
    assert [o["id"] for o in rest["items"]] == [may["id"]] and rest["next_cursor"] is None

    by_state = (await client.get("/v1/orders?state=quoted", headers=BUYER)).json()
    assert [o["id"] for o in by_state["items"]] == [april["id"]]
    in_range = await client.get(f"/v1/orders?required_by_from={due(80)}&required_by_to={due(100)}", headers=ADMIN)
    assert {o["id"] for o in in_range.json()["items"]} == {april["id"], osaka["id"]}
    by_buyer = (await client.get("/v1/orders?buyer=osaka-trading", headers=ADMIN)).json()
    assert [o["id"] for o in by_buyer["items"]] == [osaka["id"]]
    assert (await client.get("/v1/orders?buyer=osaka-trading", headers=BUYER)).json()["items"] == []

    open_or_mine = (await client.get("/v1/orders", headers=AGGREGATOR)).json()
    assert {o["id"] for o in open_or_mine["items"]} == {march["id"], april["id"], may["id"], osaka["id"]}
    assert {o["state"] for o in open_or_mine["items"]} == {"requested", "quoted"}


async def test_bad_list_parameters_are_named(client: Client) -> None:
    for query, field in (
        ("state=lost", "state"),
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("required_by_from=tomorrow", "required_by_from"),
        ("cursor=not-a-cursor", "cursor"),
    ):
        response = await client.get(f"/v1/orders?{query}", headers=BUYER)
        assert response.status_code == 422, (query, response.text)
        assert response.json()["errors"][0]["field"] == field
