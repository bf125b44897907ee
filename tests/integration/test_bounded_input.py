"""Hostile input to all four services is refused with a problem naming the field, never stored, never a 500:
numbers beyond their columns, NUL characters, JSON nested without end, and decimals that are not plain ones."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from shared.auth import Role
from shared.service import load_services
from tests.conftest import Servers
from tests.support.app import settings_for, token
from tests.support.standards import serve_knowing

pytestmark = pytest.mark.integration

Client = AsyncTestClient[Litestar]
AGGREGATOR = token(Role.AGGREGATOR, org="semarang-trading", sub="dewi")
BUYER = token(Role.BUYER, org="rotterdam-home", sub="anke")
INSPECTOR = token(Role.INSPECTOR, org="sucofindo-qc", sub="rina")
MSME = token(Role.MSME, org="jepara-teak", sub="slamet")
SOME_ID = "0190a0b0-0000-7000-8000-000000000000"
AMOUNT_RULE = 'must be a decimal string with at most 12 digits before and 4 after the point, e.g. "12.50"'


@pytest.fixture
async def client(database_url: str, servers: Servers, nats_prefix: str) -> AsyncIterator[Client]:
    settings = settings_for(database_url, servers.nats_url, nats_prefix)
    async with serve_knowing(load_services(), settings, {SOME_ID: 1}) as (client, _):
        yield client


def problems(response: Any, status: int = 422) -> dict[str, str]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return {e["field"]: e["message"] for e in response.json().get("errors", [])}


def pool_body(**changes: Any) -> dict[str, Any]:
    body = {
        "name": "Teak garden chairs",
        "hs_code": "940360",
        "standard_id": SOME_ID,
        "standard_version": 1,
        "unit": "PCE",
        "currency": "USD",
        "consolidation_point": "Semarang",
    }
    return body | changes


def order_body(amount: str) -> dict[str, Any]:
    line = {
        "hs_code": "940360",
        "category": "garden furniture",
        "description": "teak garden chair, oiled",
        "standard_id": SOME_ID,
        "standard_version": 1,
        "quantity": 500,
        "unit": "PCE",
        "target_unit_price": {"amount": amount, "currency": "USD"},
    }
    return {"lines": [line], "incoterm": "FOB", "destination_country": "NL", "destination_port": "NLRTM",
            "required_by": "2099-05-28"}  # fmt: skip


async def test_a_version_beyond_a_postgresql_integer_is_refused_and_the_pool_still_projects(client: Client) -> None:
    huge = await client.post("/v1/pools", json=pool_body(standard_version=1127741306468370), headers=AGGREGATOR)
    assert set(problems(huge)) == {"standard_version"}
    opened = await client.post("/v1/pools", json=pool_body(), headers=AGGREGATOR)
    assert opened.status_code == 201, opened.text
    listed = await client.get(f"/v1/pools?wait_for_position={opened.json()['position']}", headers=AGGREGATOR)
    assert [p["id"] for p in listed.json()["items"]] == [opened.json()["id"]]
    spec = {"defect_classes": [{"defect_class": "major", "aql": "1.0"}]}
    version = await client.put(f"/v1/standards/{SOME_ID}/versions/99999999999", json=spec, headers=INSPECTOR)
    assert "number" in problems(version)


@pytest.mark.parametrize(
    "changes",
    [{"weights": {"price": "NaN"}}, {"max_share": "NaN"}, {"max_share": "sNaN"},
     {"handling_cost_per_msme": "Infinity"}, {"exchange_rates": {"EUR": "-Infinity"}}],
)  # fmt: skip
async def test_an_allocation_policy_that_is_not_a_number_is_refused(client: Client, changes: dict[str, Any]) -> None:
    response = await client.post(f"/v1/pools/{SOME_ID}/allocate", json=changes, headers=AGGREGATOR)
    (field,) = problems(response)
    assert field.split(".")[0] == next(iter(changes))


@pytest.mark.parametrize(
    ("query", "field"),
    [("lot_size=1000&aql=1e0", "aql"), ("lot_size=1000&aql=sNaN", "aql"), ("lot_size=%C2%B2&aql=1.0", "lot_size"),
     ("lot_size=1000000000000&aql=1.0", "lot_size"), ("lot_size=1000&aql=1.0&level=" + "I" * 50, "level")],
)  # fmt: skip
async def test_a_sampling_plan_query_out_of_bounds_is_refused(client: Client, query: str, field: str) -> None:
    assert set(problems(await client.get(f"/v1/sampling-plans?{query}", headers=INSPECTOR))) == {field}
    assert (await client.get("/v1/sampling-plans?lot_size=1000&aql=1.0", headers=INSPECTOR)).status_code == 200


@pytest.mark.parametrize("amount", ["1e400", "99999999999999999999999999999.99", "NaN"])
async def test_an_order_price_out_of_plain_decimal_digits_is_refused(client: Client, amount: str) -> None:
    buyer = {"name": "Rotterdam Home B.V.", "country": "NL", "contacts": [{"name": "Anke", "email": "buy@example.nl"}]}
    assert (await client.post("/v1/buyers", json=buyer, headers=BUYER)).status_code == 201
    response = await client.post("/v1/orders", json=order_body(amount), headers=BUYER)
    assert problems(response) == {"lines[0].target_unit_price.amount": AMOUNT_RULE}
    assert (await client.post("/v1/orders", json=order_body("45.00"), headers=BUYER)).status_code == 201


async def test_a_nul_character_in_a_body_a_query_or_a_path_is_refused_naming_it(client: Client) -> None:
    msme = {"name": "Jepara\u0000Teak", "nib": "9120000000001", "province": "Jawa Tengah", "city": "Jepara",
            "contact": {"name": "Pak Slamet", "phone": "+62 291 555 0100"}, "size_class": "small"}  # fmt: skip
    assert set(problems(await client.post("/v1/msmes", json=msme, headers=MSME))) == {"name"}
    order = order_body("45.00")
    order["lines"][0]["attributes"] = {"wood": "teak\u0000"}
    assert set(problems(await client.post("/v1/orders", json=order, headers=BUYER))) == {"lines[0].attributes.wood"}
    searched = await client.get("/v1/products?q=teak%00chair", headers=BUYER)
    assert set(problems(searched)) == {"q"}
    repeated = await client.get("/v1/products?certification=ha%00lal&certification=svlk", headers=BUYER)
    assert set(problems(repeated)) == {"certification"}
    surrogate = json.dumps({**msme, "name": "Jepara \ud800 Teak"})  # escaped: \ud800 alone is not UTF-8
    sent = await client.post("/v1/msmes", content=surrogate, headers={**MSME, "Content-Type": "application/json"})
    assert set(problems(sent)) == {"name"}
    buyer = await client.get("/v1/buyers/rotterdam%00home", headers=BUYER)
    assert set(problems(buyer)) == {"org"}


async def test_json_nested_beyond_the_limit_is_a_bad_request_naming_the_limit(client: Client) -> None:
    deep = b'{"name": "Teak chair", "notes": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    headers = {**INSPECTOR, "Content-Type": "application/json"}
    response = await client.post("/v1/standards", content=deep, headers=headers)
    problems(response, 400)
    assert "64 levels" in response.json()["detail"]
    shallow = json.dumps({"name": "Teak chair", "defect_classes": [{"defect_class": "major", "aql": "1.0"}]})
    assert (await client.post("/v1/standards", content=shallow, headers=headers)).status_code == 201
