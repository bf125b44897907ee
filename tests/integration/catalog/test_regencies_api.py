"""An MSME may be in any of Indonesia's 514 regencies and cities; a place Gotong refuses comes with what it accepts."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.catalog.conftest import WEAVERS, Catalog, msme_body

pytestmark = pytest.mark.integration


def _errors(response: Any) -> dict[str, str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return {e["field"]: e["message"] for e in response.json()["errors"]}


@pytest.mark.parametrize("said", ["Kabupaten Cirebon", "Kab. Cirebon", "kab cirebon", "32.09"])
async def test_an_msme_in_a_regency_beyond_the_big_cities_registers(catalog: Catalog, said: str) -> None:
    created = await catalog.register(city=said, nib="9120009876543")
    assert (created["province"], created["city"]) == ("Jawa Barat", "Kabupaten Cirebon")
    found = await catalog.client.get("/v1/products", params={"city": said}, headers=WEAVERS)
    assert found.status_code == 200, found.text


async def test_a_village_for_a_city_is_refused_with_its_regency_suggested(catalog: Catalog) -> None:
    refused = await catalog.client.post("/v1/msmes", json=msme_body(city="Tegalwangi"), headers=WEAVERS)
    message = _errors(refused)["city"]
    assert "village" in message and '"Kabupaten Cirebon" (32.09)' in message, message


async def test_an_unknown_city_or_province_is_refused_with_what_is_allowed(catalog: Catalog) -> None:
    refused = await catalog.client.post(
        "/v1/msmes", json=msme_body(city="Cirebn", province="Jawa Barrat"), headers=WEAVERS
    )
    errors = _errors(refused)
    assert '"Cirebon"' in errors["city"] and "514 regencies" in errors["city"], errors
    assert "Jawa Barat" in errors["province"] and "Papua Pegunungan" in errors["province"], errors
    search = await catalog.client.get("/v1/products", params={"city": "Cirebn"}, headers=WEAVERS)
    assert '"Cirebon"' in _errors(search)["city"]
