"""The catalog service over HTTP on the test's own database and NATS prefix, with a clock the test controls."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from services.catalog.app import service
from shared.auth import Role
from shared.kernel.clock import ManualClock
from shared.runtime import Runtime
from tests.conftest import Servers
from tests.support.app import settings_for, token
from tests.support.standards import serve_knowing

NOW = datetime(2026, 10, 15, 9, 30, tzinfo=UTC)
STANDARD = "01890000-0000-7000-8000-00000000057d"
PUBLISHED = {STANDARD: 3}  # quality has published versions 1 to 3 of it

WEAVERS = token(Role.MSME, org="cirebon-weavers", sub="siti")
CARVERS = token(Role.MSME, org="jepara-carvers", sub="budi")
AGGREGATOR = token(Role.AGGREGATOR, org="nusantara-trading", sub="rina")
BUYER = token(Role.BUYER, org="rotterdam-home", sub="jan")
ADMIN = token(Role.ADMIN, org="gotong", sub="ops")


@dataclass
class Catalog:
    client: AsyncTestClient  # type: ignore[type-arg]
    runtime: Runtime
    clock: ManualClock

    async def register(self, headers: dict[str, str] = WEAVERS, **overrides: Any) -> dict[str, Any]:
        response = await self.client.post("/v1/msmes", json=msme_body(**overrides), headers=headers)
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def list_product(self, msme_id: str, headers: dict[str, str] = WEAVERS, **overrides: Any) -> dict[str, Any]:
        response = await self.client.post(
            f"/v1/msmes/{msme_id}/products", json=product_body(**overrides), headers=headers
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body


def msme_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Rotan Cirebon Jaya",
        "nib": "9120001234567",
        "province": "Jawa Barat",
        "city": "Cirebon",
        "contact": {"name": "Siti Aminah", "phone": "+62 231 555 0101", "email": "siti@rotancirebon.id"},
        "size_class": "small",
    }
    body.update(overrides)
    return body


def product_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "sku": "RB-40",
        "name": "Rattan storage basket 40 cm",
        "description": "Hand-woven natural rattan basket with lid",
        "hs_code": "4602.12.10",
        "category": "baskets",
        "unit": "PCE",
        "moq": 100,
        "price_tiers": [
            {"min_quantity": 100, "unit_price": {"amount": "6.50", "currency": "USD"}},
            {"min_quantity": 1000, "unit_price": {"amount": "5.80", "currency": "USD"}},
        ],
        "lead_time_days": 30,
    }
    body.update(overrides)
    return body


@pytest.fixture
async def catalog(database_url: str, servers: Servers, nats_prefix: str) -> AsyncIterator[Catalog]:
    clock = ManualClock(NOW)
    settings = settings_for(database_url, servers.nats_url, nats_prefix)
    async with serve_knowing([service], settings, PUBLISHED, clock=clock) as (client, runtime):
        yield Catalog(client, runtime, clock)
