"""Registering and reading buyer organisations."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from services.orders.app import service
from shared.auth import Role
from tests.conftest import Servers
from tests.integration.orders.support import ADMIN, AGGREGATOR, BUYER, OTHER_BUYER, PUBLISHED, Client, register_buyer
from tests.support.app import settings_for, token
from tests.support.standards import serve_knowing

pytestmark = pytest.mark.integration

OSAKA = {"name": "Osaka Trading K.K.", "country": "JP", "contacts": [{"name": "Kenji Sato", "email": "k@osaka.jp"}]}


@pytest.fixture
async def client(database_url: str, servers: Servers, nats_prefix: str) -> AsyncIterator[Client]:
    async with serve_knowing([service], settings_for(database_url, servers.nats_url, nats_prefix), PUBLISHED) as (
        client,
        _,
    ):
        yield client


async def test_a_buyer_registers_its_own_organisation_once(client: Client) -> None:
    registered = await register_buyer(client)
    assert registered["id"] == "rotterdam-home" and registered["users"] == ["ana"] and registered["version"] == 1
    read = await client.get(f"/v1/buyers/rotterdam-home?wait_for_position={registered['position']}", headers=BUYER)
    assert read.status_code == 200
    assert read.json()["contacts"] == [
        {"name": "Ana de Vries", "email": "ana@example.nl", "phone": None, "title": None}
    ]
    assert read.json()["country"] == "NL"
    again = await client.post("/v1/buyers", json=OSAKA, headers=BUYER)
    assert again.status_code == 409 and again.json()["type"] == "/problems/buyer-already-registered"
    assert (await client.get("/v1/buyers/rotterdam-home", headers=OTHER_BUYER)).status_code == 404
    assert (await client.get("/v1/buyers/rotterdam-home", headers=AGGREGATOR)).status_code == 404
    assert (await client.get("/v1/buyers/rotterdam-home", headers=ADMIN)).status_code == 200


async def test_only_an_admin_registers_another_organisation(client: Client) -> None:
    forbidden = await client.post("/v1/buyers", json={**OSAKA, "org": "osaka-trading"}, headers=BUYER)
    assert forbidden.status_code == 403
    assert (await client.post("/v1/buyers", json=OSAKA, headers=AGGREGATOR)).status_code == 403
    by_admin = await client.post("/v1/buyers", json={**OSAKA, "org": "osaka-trading"}, headers=ADMIN)
    assert by_admin.status_code == 201 and by_admin.json()["id"] == "osaka-trading"
    kenji = token(Role.BUYER, org="osaka-trading", sub="kenji")
    position = by_admin.json()["position"]
    assert (
        await client.get(f"/v1/buyers/osaka-trading?wait_for_position={position}", headers=kenji)
    ).status_code == 200


async def test_bad_registrations_name_each_field(client: Client) -> None:
    bad = {"name": "", "country": "Netherlands", "contacts": [{"name": "Ana", "email": "not-an-email", "fax": "1"}]}
    response = await client.post("/v1/buyers", json=bad, headers=BUYER)
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {
        "name",
        "country",
        "contacts[0].email",
        "contacts[0].fax",
    }
    unknown_country = await client.post("/v1/buyers", json={**OSAKA, "country": "UK"}, headers=BUYER)
    assert unknown_country.status_code == 422 and unknown_country.json()["errors"][0]["field"] == "country"
    no_contacts = await client.post("/v1/buyers", json={**OSAKA, "contacts": []}, headers=BUYER)
    assert no_contacts.status_code == 422 and no_contacts.json()["errors"][0]["field"] == "contacts"
