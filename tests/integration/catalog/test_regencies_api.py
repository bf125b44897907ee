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


async def test_the_regions_list_pages_through_every_regency_and_filters_by_name_and_province(catalog: Catalog) -> None:
    codes: list[str] = []
    cursor: str | None = None
    while True:
        params = {"limit": "500", **({"cursor": cursor} if cursor else {})}
        page = (await catalog.client.get("/v1/regions", params=params, headers=WEAVERS)).json()
        codes += [region["code"] for region in page["items"]]
        if (cursor := page["next_cursor"]) is None:
            break
    assert len(codes) == len(set(codes)) == 514 and codes == sorted(codes)
    found = await catalog.client.get("/v1/regions", params={"q": "cirebon"}, headers=WEAVERS)
    assert [(r["code"], r["name"]) for r in found.json()["items"]] == [
        ("32.09", "Kabupaten Cirebon"),
        ("32.74", "Cirebon"),
    ]
    bali = (await catalog.client.get("/v1/regions", params={"province": "bali"}, headers=WEAVERS)).json()
    assert len(bali["items"]) == 9 and {r["province"] for r in bali["items"]} == {"Bali"}
    assert "Jawa Barat" in _errors(await catalog.client.get("/v1/regions?province=Jawa", headers=WEAVERS))["province"]
