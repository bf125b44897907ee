"""Quality's HTTP tests: the service on the test's own database and NATS prefix, and the callers it meets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from services.quality.app import service
from shared.auth import Role
from shared.runtime import Runtime
from tests.conftest import Servers
from tests.support.app import serve, settings_for, token

Client = AsyncTestClient[Litestar]

INSPECTOR = token(Role.INSPECTOR, org="sucofindo-qc", sub="rina")
OTHER_INSPECTOR = token(Role.INSPECTOR, org="bureau-qc", sub="joris")
ADMIN = token(Role.ADMIN, org="gotong", sub="root")
BUYER = token(Role.BUYER, org="rotterdam-home", sub="anke")
AGGREGATOR = token(Role.AGGREGATOR, org="nusantara-trade", sub="budi")
MSME_USER = token(Role.MSME, org="cirebon-rattan", sub="siti")
OTHER_MSME_USER = token(Role.MSME, org="jepara-teak", sub="agus")


def basket_standard(**changes: Any) -> dict[str, Any]:
    """Rattan round basket 30 cm, EU retail grade, as an inspector would send it."""
    body: dict[str, Any] = {
        "name": "Rattan round basket 30 cm, EU retail grade",
        "description": "Hand-woven natural rattan, round, 30 cm diameter",
        "attributes": [
            {"name": "diameter", "unit": "cm", "nominal": "30", "lower_tolerance": "0.5", "upper_tolerance": "0.5"},
            {
                "name": "moisture",
                "unit": "%",
                "nominal": "12",
                "lower_tolerance": "12",
                "upper_tolerance": "3",
                "defect_class": "critical",
            },
        ],
        "checks": [
            {"name": "no mould", "kind": "visual", "defect_class": "critical"},
            {"name": "handle holds 5 kg", "kind": "functional", "defect_class": "major"},
            {"name": "even weave", "kind": "visual", "defect_class": "minor"},
        ],
        "defect_classes": [
            {"defect_class": "critical", "aql": "0.065"},
            {"defect_class": "major", "aql": "1.0"},
            {"defect_class": "minor", "aql": "4.0"},
        ],
        "inspection_level": "II",
        "qualification_lots": 2,
        "references": [{"title": "Golden sample", "url": "https://example.org/basket.jpg"}],
    }
    body.update(changes)
    return body


def version_body(**changes: Any) -> dict[str, Any]:
    """The basket standard's content as a version (no name or description)."""
    body = basket_standard(**changes)
    del body["name"], body["description"]
    return body


@pytest.fixture
async def app(database_url: str, servers: Servers, nats_prefix: str) -> AsyncIterator[tuple[Client, Runtime]]:
    async with serve([service], settings_for(database_url, servers.nats_url, nats_prefix)) as running:
        yield running


@pytest.fixture
def client(app: tuple[Client, Runtime]) -> Client:
    return app[0]


async def published_standard(client: Client, **changes: Any) -> dict[str, Any]:
    response = await client.post("/v1/standards", json=basket_standard(publish=True, **changes), headers=INSPECTOR)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body
