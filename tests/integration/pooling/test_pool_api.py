"""Pooling's HTTP surface: bad input named field by field, roles, other organisations, proposals kept for
approval, unmatched demand added by hand, readiness, pagination and partial shipment."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from shared.auth import Role
from tests.conftest import Servers
from tests.integration.pooling.harness import AGGREGATOR, Pooling, eventually, running_pooling
from tests.integration.pooling.test_pool_flow_api import requests_of, verdict
from tests.support.app import token

pytestmark = pytest.mark.integration

STRANGER = token(Role.AGGREGATOR, org="other-trading-house", sub="bob")


@pytest.fixture
async def pooling(database_url: str, servers: Servers, nats_prefix: str, pool: asyncpg.Pool) -> AsyncIterator[Pooling]:
    async with running_pooling(database_url, servers.nats_url, nats_prefix, pool) as running:
        yield running


def fields(response: Any) -> set[str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return {e["field"] for e in response.json()["errors"]}


async def test_opening_a_pool_names_every_bad_field(pooling: Pooling) -> None:
    bad = {
        "name": "",
        "hs_code": "46x",
        "standard_id": "not-a-uuid",
        "standard_version": 0,
        "unit": "pieces",
        "currency": "usd",
        "consolidation_point": "Semarang",
        "colour": "brown",
    }
    response = await pooling.client.post("/v1/pools", json=bad, headers=AGGREGATOR)
    assert fields(response) == {"name", "hs_code", "standard_id", "standard_version", "unit", "currency", "colour"}
    nowhere = await pooling.client.post("/v1/pools", json=_body(pooling, "Atlantis"), headers=AGGREGATOR)
    assert fields(nowhere) == {"consolidation_point"}
    assert (await pooling.client.post("/v1/pools", json=_body(pooling), headers=token(Role.BUYER))).status_code == 403


def _body(pooling: Pooling, place: str = "IDSRG") -> dict[str, Any]:
    return {
        "name": "Rattan baskets",
        "hs_code": "460219",
        "standard_id": str(pooling.standard_id),
        "standard_version": 1,
        "unit": "PCE",
        "currency": "USD",
        "consolidation_point": place,
    }


async def test_other_organisations_see_nothing_of_a_pool_or_its_requests(pooling: Pooling) -> None:
    await pooling.msme("rotan-a", capacity={"2027-02": 500})
    pool = await pooling.open_pool(consolidation_point="IDTPP")
    assert pool["consolidation_point"] == "IDTPP"
    await pooling.confirm_order([100])
    await pooling.pool_where(pool["id"], lambda p: p["demand"] == 100)
    url = f"/v1/pools/{pool['id']}"
    assert (await pooling.client.get(url, headers=STRANGER)).status_code == 404
    assert (await pooling.client.post(f"{url}/allocate", json={}, headers=STRANGER)).status_code == 404
    assert (await pooling.client.get(url, headers=token(Role.MSME, org="rotan-a"))).status_code == 403
    listed = await pooling.get("/v1/pools", headers=STRANGER)
    assert listed["items"] == []

    sent = await pooling.client.post(f"{url}/allocate", json={"send": True}, headers=AGGREGATOR)
    (request_id,) = sent.json()["request_ids"]
    (request,) = await eventually(lambda: requests_of(pooling, "rotan-a"))
    assert request["id"] == request_id
    other_msme = token(Role.MSME, org="rotan-z")
    assert (await pooling.client.get(f"/v1/allocation-requests/{request_id}", headers=other_msme)).status_code == 404
    refused = await pooling.client.post(f"/v1/allocation-requests/{request_id}/accept", json={}, headers=other_msme)
    assert refused.status_code == 404
    by_aggregator = await pooling.client.post(
        f"/v1/allocation-requests/{request_id}/accept", json={}, headers=AGGREGATOR
    )
    assert by_aggregator.status_code == 403
    mine = await pooling.get(f"/v1/allocation-requests?pool_id={pool['id']}", headers=AGGREGATOR)
    assert [r["id"] for r in mine["items"]] == [request_id]
    assert (await pooling.get("/v1/allocation-requests", headers=STRANGER))["items"] == []


async def test_bad_allocation_rules_and_answers_are_named(pooling: Pooling) -> None:
    pool = await pooling.open_pool()
    body = {
        "weights": {"price": "-1", "quality": "1"},
        "max_share": "1.5",
        "exchange_rates": {"EUR": "0"},
        "handling_cost_per_msme": "-3",
        "expires_in": 0,
        "sendd": True,
    }
    response = await pooling.client.post(f"/v1/pools/{pool['id']}/allocate", json=body, headers=AGGREGATOR)
    assert fields(response) == {"expires_in", "sendd"}
    del body["expires_in"], body["sendd"]
    response = await pooling.client.post(f"/v1/pools/{pool['id']}/allocate", json=body, headers=AGGREGATOR)
    assert fields(response) == {"weights.price", "max_share", "exchange_rates.EUR", "handling_cost_per_msme"}
    empty = await pooling.client.post(f"/v1/pools/{pool['id']}/allocate", json={}, headers=AGGREGATOR)
    assert empty.status_code == 409 and empty.json()["type"] == "/problems/nothing-open"
    some_id = "0190a0b0-0000-7000-8000-000000000000"
    decline = await pooling.client.post(
        f"/v1/allocation-requests/{some_id}/decline", json={"reason": ""}, headers=token(Role.MSME, org="x")
    )
    assert fields(decline) == {"reason"}
    accept = await pooling.client.post(
        f"/v1/allocation-requests/{some_id}/accept", json={"quantity": 0}, headers=token(Role.MSME, org="x")
    )
    assert fields(accept) == {"quantity"}
    missing = await pooling.client.post(
        f"/v1/allocation-requests/{some_id}/accept", json={}, headers=token(Role.MSME, org="x")
    )
    assert missing.status_code == 404


async def test_a_proposal_waits_for_approval_and_is_sent_once(pooling: Pooling) -> None:
    msme_id, _ = await pooling.msme("rotan-a", capacity={"2027-02": 500})
    pool = await pooling.open_pool()
    await pooling.confirm_order([300])
    await pooling.pool_where(pool["id"], lambda p: p["demand"] == 300)
    proposed = await pooling.client.post(f"/v1/pools/{pool['id']}/allocate", json={}, headers=AGGREGATOR)
    assert proposed.status_code == 201, proposed.text
    proposal = proposed.json()
    assert proposal["status"] == "proposed" and proposal["request_ids"] == []
    assert proposal["allocations"][0]["msme_id"] == str(msme_id)
    assert proposal["allocations"][0]["msme_name"] == "Rotan rotan-a"
    assert await requests_of(pooling, "rotan-a") == []

    url = f"/v1/pools/{pool['id']}/proposals/{proposal['id']}"
    stored = await pooling.get(f"{url}?wait_for_position={proposal['position']}")
    assert stored["allocated"] == 300 and stored["status"] == "proposed"
    approved = await pooling.client.post(f"{url}/approve", json={"expires_in": 600}, headers=AGGREGATOR)
    assert approved.status_code == 201, approved.text
    assert len(approved.json()["request_ids"]) == 1
    again = await pooling.client.post(f"{url}/approve", json={}, headers=AGGREGATOR)
    assert again.status_code == 409
    (request,) = await eventually(lambda: requests_of(pooling, "rotan-a"))
    assert request["expires_at"].startswith("2027-01-04T09:10:00")
    unknown = await pooling.client.post(
        f"/v1/pools/{pool['id']}/proposals/0190a0b0-0000-7000-8000-000000000000/approve", json={}, headers=AGGREGATOR
    )
    assert unknown.status_code == 404


async def test_allocation_answers_503_until_pooling_has_caught_up(pooling: Pooling) -> None:
    pool = await pooling.open_pool()
    consumer = pooling.runtime.consumers[0]
    consumer.caught_up.clear()
    try:
        response = await pooling.client.post(f"/v1/pools/{pool['id']}/allocate", json={}, headers=AGGREGATOR)
        assert response.status_code == 503 and response.json()["type"] == "/problems/not-ready"
    finally:
        consumer.caught_up.set()


async def test_unmatched_demand_is_shown_and_can_be_added_by_hand(pooling: Pooling) -> None:
    order_id, (line_id,) = await pooling.confirm_order([250])
    unmatched = await eventually(lambda: _unmatched(pooling, AGGREGATOR))
    assert [(u["line_id"], u["quantity"]) for u in unmatched] == [(str(line_id), 250)]
    assert "no open pool" in unmatched[0]["reason"]
    assert await _unmatched(pooling, STRANGER) == []

    pool = await pooling.open_pool()
    added = await pooling.client.post(
        f"/v1/pools/{pool['id']}/demand", json={"order_id": str(order_id), "line_id": str(line_id)}, headers=AGGREGATOR
    )
    assert added.status_code == 201, added.text
    assert added.json()["demand"] == 250
    gone = await pooling.get(f"/v1/unmatched-demand?wait_for_position={added.json()['position']}")
    assert gone["items"] == []

    other = await pooling.open_pool(name="A second pool")
    twice = await pooling.client.post(
        f"/v1/pools/{other['id']}/demand", json={"order_id": str(order_id), "line_id": str(line_id)}, headers=AGGREGATOR
    )
    assert twice.status_code == 409 and twice.json()["type"] == "/problems/already-pooled"
    foreign = await pooling.client.post(
        f"/v1/pools/{pool['id']}/demand", json={"order_id": str(order_id), "line_id": str(line_id)}, headers=STRANGER
    )
    assert foreign.status_code == 404


async def _unmatched(pooling: Pooling, headers: dict[str, str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = (await pooling.get("/v1/unmatched-demand", headers=headers))["items"]
    return items


async def test_pools_are_listed_in_pages(pooling: Pooling) -> None:
    opened = [await pooling.open_pool(name=f"Pool {n}") for n in range(3)]
    first = await pooling.get("/v1/pools?limit=2")
    assert [p["id"] for p in first["items"]] == [p["id"] for p in opened[:2]]
    rest = await pooling.get(f"/v1/pools?limit=2&cursor={first['next_cursor']}")
    assert [p["id"] for p in rest["items"]] == [opened[2]["id"]] and rest["next_cursor"] is None
    tampered = await pooling.client.get("/v1/pools?cursor=abc", headers=AGGREGATOR)
    assert fields(tampered) == {"cursor"}
    assert fields(await pooling.client.get("/v1/pools?limit=0", headers=AGGREGATOR)) == {"limit"}


async def test_a_partial_shipment_needs_the_buyers_consent(pooling: Pooling) -> None:
    msme_id, _ = await pooling.msme("rotan-a", capacity={"2027-02": 500})
    pool = await pooling.open_pool()
    await pooling.confirm_order([300])
    await pooling.pool_where(pool["id"], lambda p: p["demand"] == 300)
    await pooling.client.post(f"/v1/pools/{pool['id']}/allocate", json={"send": True}, headers=AGGREGATOR)
    (request,) = await eventually(lambda: requests_of(pooling, "rotan-a"))
    headers = token(Role.MSME, org="rotan-a")
    await pooling.client.post(f"/v1/allocation-requests/{request['id']}/accept", json={}, headers=headers)
    lot = await pooling.client.post(
        f"/v1/pools/{pool['id']}/lots",
        json={"msme_id": str(msme_id), "quantity": 100, "lot_code": "A-1", "delivered_on": "2027-02-10"},
        headers=headers,
    )
    url = f"/v1/pools/{pool['id']}/ship"
    assert (await pooling.client.post(url, json={}, headers=AGGREGATOR)).status_code == 409
    await pooling.quality.publish(
        f"inspection-{lot.json()['lot_id']}", verdict(pooling, pool["id"], lot.json(), accepted=True)
    )
    await pooling.pool_where(pool["id"], lambda p: p["passed"] == 100)

    whole = await pooling.client.post(url, json={}, headers=AGGREGATOR)
    assert whole.status_code == 409 and whole.json()["type"] == "/problems/not-filled"
    assert fields(await pooling.client.post(url, json={"partial": True}, headers=AGGREGATOR)) == {"consent_reference"}
    assert fields(await pooling.client.post(url, json={"partial": "yes"}, headers=AGGREGATOR)) == {"partial"}
    assert (await pooling.client.post(url, json={}, headers=STRANGER)).status_code == 404
    consented = await pooling.client.post(
        url, json={"partial": True, "consent_reference": "email from Jan, 2027-02-12"}, headers=AGGREGATOR
    )
    assert consented.status_code == 201, consented.text
    shipment = consented.json()
    assert (shipment["quantity"], shipment["partial"], shipment["pool"]["status"]) == (100, True, "open")
    assert shipment["pool"]["lines"][0]["shipped"] == 100
