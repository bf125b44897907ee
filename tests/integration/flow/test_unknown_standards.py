"""Catalog, orders and pooling accept only standards quality has published, learnt from its events: an unknown
standard, or an unpublished version of one, is a 422 naming the field and saying the service does not know it."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest

from tests.integration.flow.bodies import CHAIR
from tests.integration.flow.marketplace import AGGREGATOR, BUYER, CHAIRS, Marketplace

pytestmark = pytest.mark.integration


def _refused(response: Any) -> dict[str, str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return {e["field"]: e["message"] for e in response.json()["errors"]}


def _order(standard_id: str, version: int) -> dict[str, Any]:
    line = {
        "hs_code": CHAIRS, "category": "garden furniture", "description": "teak garden chair",
        "standard_id": standard_id, "standard_version": version, "quantity": 100, "unit": "PCE",
        "target_unit_price": {"amount": "45.00", "currency": "USD"},
    }  # fmt: skip
    return {"lines": [line], "incoterm": "FOB", "destination_country": "NL", "destination_port": "NLRTM",
            "loading_port": "IDSRG", "required_by": "2027-05-28"}  # fmt: skip


def _pool(standard_id: str, version: int) -> dict[str, Any]:
    return {"name": "Teak chairs", "hs_code": CHAIRS, "standard_id": standard_id, "standard_version": version,
            "unit": "PCE", "currency": "USD", "consolidation_point": "Semarang"}  # fmt: skip


async def _refusals(market: Marketplace, standard_id: str, version: int) -> dict[str, dict[str, str]]:
    await market.register_buyer()
    producer = await market.producer("jepara-teak", await market.publish_standard(), name="Jepara Teak")
    tiers = [{"min_quantity": 10, "unit_price": {"amount": "38.00", "currency": "USD"}}]
    chair = {
        **CHAIR,
        "sku": "TGC-2",
        "price_tiers": tiers,
        "standards": [{"standard_id": standard_id, "version": version}],
    }
    return {
        "orders": _refused(await market.client.post("/v1/orders", json=_order(standard_id, version), headers=BUYER)),
        "pooling": _refused(
            await market.client.post("/v1/pools", json=_pool(standard_id, version), headers=AGGREGATOR)
        ),
        "catalog": _refused(
            await market.client.post(f"/v1/msmes/{producer.msme_id}/products", json=chair, headers=producer.headers)
        ),
        "catalog update": _refused(
            await market.client.patch(
                f"/v1/products/{producer.product_id}",
                json={"standards": [{"standard_id": standard_id, "version": version}]},
                headers=producer.headers,
            )
        ),
    }


async def test_a_standard_quality_never_published_is_refused_everywhere(market: Marketplace) -> None:
    unknown = str(uuid4())
    refusals = await _refusals(market, unknown, 1)
    fields = [("orders", "lines[0].standard_id"), ("pooling", "standard_id"),
              ("catalog", "standards[0].standard_id"), ("catalog update", "standards[0].standard_id")]  # fmt: skip
    for service, field in fields:
        message = refusals[service].get(field, "")
        name = service.split()[0]
        assert f"standard {unknown} is not known to {name} yet" in message, (service, refusals[service])


async def test_an_unpublished_version_of_a_known_standard_is_refused_on_its_version(market: Marketplace) -> None:
    standard_id = await market.publish_standard()
    refusals = await _refusals(market, standard_id, 2)
    fields = [("orders", "lines[0].standard_version"), ("pooling", "standard_version"),
              ("catalog", "standards[0].version"), ("catalog update", "standards[0].version")]  # fmt: skip
    for service, field in fields:
        assert "version 2 of standard" in refusals[service].get(field, ""), (service, refusals[service])
        assert "are 1" in refusals[service][field]


async def test_a_standard_used_the_moment_it_is_published_is_accepted(market: Marketplace) -> None:
    await market.register_buyer()
    standard_id = await market.publish_standard()  # and at once, before the others may have heard of it:
    pool = await market.client.post("/v1/pools", json=_pool(standard_id, 1), headers=AGGREGATOR)
    assert pool.status_code == 201, pool.text
    order = await market.client.post("/v1/orders", json=_order(standard_id, 1), headers=BUYER)
    assert order.status_code == 201, order.text
