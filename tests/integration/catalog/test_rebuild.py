"""The catalog's read models rebuild from its events to exactly what the live projection built."""

from __future__ import annotations

import asyncpg
import pytest

from events.catalog import CODEC
from services.catalog.read.projections import CATALOG
from shared.eventstore import EventStore
from shared.rebuild import rebuild
from tests.integration.catalog.conftest import ADMIN, BUYER, WEAVERS, Catalog

pytestmark = pytest.mark.integration


async def test_a_rebuilt_catalog_equals_the_live_one_and_serves_after_the_swap(
    catalog: Catalog, pool: asyncpg.Pool
) -> None:
    msme = await catalog.register(WEAVERS)
    certificate = {
        "kind": "halal",
        "number": "H-1",
        "issuer": "BPJPH",
        "valid_from": "2025-01-01",
        "valid_until": "2027-01-01",
    }
    await catalog.client.post(f"/v1/msmes/{msme['id']}/certifications", json=certificate, headers=WEAVERS)
    product = await catalog.list_product(msme["id"])
    await catalog.client.patch(f"/v1/products/{product['id']}", json={"sku": "RB-41", "moq": 120}, headers=WEAVERS)
    await catalog.client.put(
        f"/v1/products/{product['id']}/capacity", json={"months": {"2027-01": 90}}, headers=WEAVERS
    )
    moved = await catalog.client.patch(
        f"/v1/msmes/{msme['id']}", json={"city": "Bandung", "status": "suspended"}, headers=ADMIN
    )
    await catalog.client.get(f"/v1/msmes/{msme['id']}?wait_for_position={moved.json()['position']}", headers=BUYER)

    store = EventStore(pool, "catalog", CODEC)
    verified = await rebuild(store, CATALOG, verify_only=True)
    assert verified.matches and verified.events_applied >= 7, str(verified)
    swapped = await rebuild(store, CATALOG)
    assert swapped.matches and swapped.swapped, str(swapped)

    read = await catalog.client.get(f"/v1/products/{product['id']}", headers=BUYER)
    assert read.json()["sku"] == "RB-41" and read.json()["city"] == "Bandung"
    found = await catalog.client.get("/v1/products?certification=halal&city=Bandung", headers=ADMIN)
    assert found.json()["items"] == []  # the MSME is suspended
    found = await catalog.client.get("/v1/products?certification=halal&include_suspended=true", headers=ADMIN)
    assert [item["sku"] for item in found.json()["items"]] == ["RB-41"]
