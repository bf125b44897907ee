"""Product search over HTTP: every filter, their combinations, cursor pagination, and bad parameters."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import asyncpg
import pytest

from services.catalog.read.search import text_query
from shared.auth import Role
from tests.integration.catalog.conftest import ADMIN, AGGREGATOR, BUYER, Catalog
from tests.integration.catalog.test_msmes_api import fields
from tests.support.app import token

pytestmark = pytest.mark.integration

STANDARD = "01890000-0000-7000-8000-00000000057d"
WOODWORKERS = token(Role.MSME, org="jepara-carvers", sub="budi")
ROASTERS = token(Role.MSME, org="malang-roasters", sub="dewi")


async def _seed(catalog: Catalog) -> dict[str, Any]:
    """Three MSMEs in three cities with baskets, furniture and coffee; returns the products by SKU."""
    weavers = await catalog.register(name="Rotan Cirebon Jaya")
    carvers = await catalog.register(
        WOODWORKERS, name="Ukir Jepara", nib="3320001234567", province="Jawa Tengah", city="Jepara"
    )
    roasters = await catalog.register(
        ROASTERS, name="Kopi Arjuna", nib="3507001234567", province="Jawa Timur", city="Malang"
    )
    cert = {"number": "N-1", "issuer": "LPPOM", "valid_from": "2025-01-01", "valid_until": "2027-12-31"}
    await catalog.client.post(
        f"/v1/msmes/{roasters['id']}/certifications", json={**cert, "kind": "halal"}, headers=ROASTERS
    )
    await catalog.client.post(
        f"/v1/msmes/{carvers['id']}/certifications",
        json={**cert, "kind": "svlk", "valid_until": "2026-09-30"},  # expired before today (2026-10-15)
        headers=WOODWORKERS,
    )
    products: dict[str, Any] = {}
    products["RB-40"] = await catalog.list_product(weavers["id"], sku="RB-40")
    products["RB-60"] = await catalog.list_product(
        weavers["id"], sku="RB-60", name="Rattan laundry hamper", hs_code="460212"
    )
    products["TBL-1"] = await catalog.list_product(
        carvers["id"],
        WOODWORKERS,
        sku="TBL-1",
        name="Teak dining table",
        description="Solid teak, hand carved",
        hs_code="9403.60.10",
        category="furniture",
        standards=[{"standard_id": STANDARD, "version": 2}],
    )
    products["KOPI-1"] = await catalog.list_product(
        roasters["id"],
        ROASTERS,
        sku="KOPI-1",
        name="Arabica green beans grade 1",
        hs_code="0901.11",
        category="coffee",
        unit="KGM",
        standards=[{"standard_id": STANDARD, "version": 1}],
    )
    declared = await catalog.client.put(
        f"/v1/products/{products['KOPI-1']['id']}/capacity",
        json={"months": {"2026-11": 500, "2026-12": 500, "2027-01": 200}},
        headers=ROASTERS,
    )
    await catalog.client.put(
        f"/v1/products/{products['RB-40']['id']}/capacity", json={"months": {"2026-11": 80}}, headers=catalog_owner()
    )
    position = declared.json()["position"]
    await catalog.client.get(f"/v1/products/{products['RB-40']['id']}?wait_for_position={position}", headers=BUYER)
    products["weavers"], products["carvers"] = weavers, carvers
    return products


def catalog_owner() -> dict[str, str]:
    return token(Role.MSME, org="cirebon-weavers", sub="siti")


async def skus(catalog: Catalog, query: str, headers: dict[str, str] = BUYER) -> list[str]:
    response = await catalog.client.get(f"/v1/products?{query}", headers=headers)
    assert response.status_code == 200, response.text
    return [item["sku"] for item in response.json()["items"]]


async def test_each_filter_narrows_the_search(catalog: Catalog) -> None:
    await _seed(catalog)
    assert sorted(await skus(catalog, "")) == ["KOPI-1", "RB-40", "RB-60", "TBL-1"]
    assert sorted(await skus(catalog, "hs=4602")) == ["RB-40", "RB-60"]
    assert await skus(catalog, "hs=4602.12.10") == ["RB-40"]
    assert await skus(catalog, "category=furniture") == ["TBL-1"]
    assert await skus(catalog, "province=jawa%20timur") == ["KOPI-1"]
    assert await skus(catalog, "city=Jepara") == ["TBL-1"]
    assert await skus(catalog, "category=furniture&province=Jawa%20Tengah") == ["TBL-1"]
    assert await skus(catalog, "category=furniture&province=Jawa%20Barat") == []
    assert sorted(await skus(catalog, "hs=46&province=Jawa%20Barat")) == ["RB-40", "RB-60"]
    assert await skus(catalog, "hs=4602.12.10&province=Jawa%20Barat") == ["RB-40"]
    assert await skus(catalog, "hs=4602&province=Jawa%20Tengah") == []
    assert await skus(catalog, "certification=halal") == ["KOPI-1"]
    assert await skus(catalog, "certification=svlk") == []  # expired on 2026-09-30
    assert await skus(catalog, "certification=svlk&certified_on=2026-06-01") == ["TBL-1"]
    assert sorted(await skus(catalog, f"standard={STANDARD}")) == ["KOPI-1", "TBL-1"]
    assert await skus(catalog, f"standard={STANDARD}&standard_version=2") == ["TBL-1"]
    assert await skus(catalog, "q=teak") == ["TBL-1"]
    assert await skus(catalog, "q=rattan%20hamp") == ["RB-60"]  # words match by prefix
    assert await skus(catalog, "q=arjuna") == ["KOPI-1"]  # the MSME's name is searchable too


async def test_words_find_what_the_text_index_finds_in_any_case_and_length(catalog: Catalog) -> None:
    """The posting lists only narrow the search: for every query, the API returns exactly the products whose
    ``tsvector`` matches it (what a full scan of the text would find), whatever the case or word length."""
    weavers = await catalog.register(name="Anyaman_Priangan Sejahtera")
    names = {
        "W-1": "Hand-woven SEAGRASS basket_XL",
        "W-2": "Seagrass placemat 40 cm",
        "W-3": "Sea salt scrub",
        "W-4": "Bamboo tray, natural lacquer",
        "W-5": "Naturally dyed batik scarf",
    }
    for sku, name in names.items():
        listed = await catalog.list_product(weavers["id"], sku=sku, name=name, description="")
    await catalog.client.get(f"/v1/products/{listed['id']}?wait_for_position={listed['position']}", headers=BUYER)
    queries = ["sea", "SEAG", "seagra", "seagrass", "seagrasses", "Hand-woven", "woven hand", "xl", "x",
               "basket_xl", "40 cm", "natur", "natural", "naturally", "lacq", "anyaman priangan", "sejahtera bat",
               "w-1", "scarf batik dyed naturally", "BAMBOO"]  # fmt: skip
    connection = await asyncpg.connect(catalog.runtime.settings.database_url)
    try:
        for query in queries:
            truth = await connection.fetch(
                "SELECT sku FROM catalog.products WHERE search @@ to_tsquery('simple', $1) ORDER BY sku",
                text_query(query),
            )
            assert sorted(await skus(catalog, f"q={quote(query)}")) == [row["sku"] for row in truth], query
    finally:
        await connection.close()
    assert await skus(catalog, "q=seagrass") == ["W-1", "W-2"]  # the truth is not empty everywhere


async def test_a_changed_product_is_found_by_what_it_is_now_and_not_by_what_it_was(catalog: Catalog) -> None:
    seeded = await _seed(catalog)
    changes = {
        "name": "Water hyacinth tote",
        "description": "Woven tote",
        "category": "bags",
        "hs_code": "4602.19.90",
        "standards": [{"standard_id": STANDARD, "version": 3}],
    }
    changed = await catalog.client.patch(f"/v1/products/{seeded['RB-60']['id']}", json=changes, headers=catalog_owner())
    assert changed.status_code == 200, changed.text
    await catalog.client.get(
        f"/v1/products/{seeded['RB-60']['id']}?wait_for_position={changed.json()['position']}", headers=BUYER
    )
    for was in ("q=hamper", "category=baskets&q=rattan", "hs=460212"):
        assert "RB-60" not in await skus(catalog, was), was
    for now in (
        "q=hyacinth",
        "q=tote",
        "category=bags",
        "hs=460219",
        "hs=4602.19.90",
        f"standard={STANDARD}&standard_version=3",
    ):
        assert await skus(catalog, now) == ["RB-60"], now
    assert sorted(await skus(catalog, "hs=4602")) == ["RB-40", "RB-60"]


async def test_filters_combine_and_capacity_counts_the_months_asked_for(catalog: Catalog) -> None:
    seeded = await _seed(catalog)
    assert await skus(catalog, "hs=09&certification=halal&province=Jawa%20Timur&q=arabica") == ["KOPI-1"]
    assert await skus(catalog, "hs=09&certification=svlk") == []
    assert sorted(await skus(catalog, "min_available=50")) == ["KOPI-1", "RB-40"]  # next month: 2026-11
    assert await skus(catalog, "min_available=100") == ["KOPI-1"]
    window = "min_available=1100&available_from=2026-11&available_to=2027-01"
    response = await catalog.client.get(f"/v1/products?{window}", headers=BUYER)
    [hit] = response.json()["items"]
    assert hit["sku"] == "KOPI-1" and hit["available"] == 1200
    assert await skus(catalog, "min_available=1300&available_from=2026-11&available_to=2027-01") == []
    assert await skus(catalog, f"msme_id={seeded['weavers']['id']}&q=storage") == ["RB-40"]


async def test_a_certification_added_after_listing_counts_in_search(catalog: Catalog) -> None:
    seeded = await _seed(catalog)
    url = f"/v1/msmes/{seeded['weavers']['id']}/certifications"
    dates = {"valid_from": "2026-01-01", "valid_until": "2028-01-01"}
    await catalog.client.post(
        url, json={"kind": "fair_trade", "number": "FT-9", "issuer": "WFTO", **dates}, headers=catalog_owner()
    )
    added = await catalog.client.post(
        url,
        json={"kind": "other", "name": "Rainforest Alliance", "number": "RA-7", "issuer": "RA", **dates},
        headers=catalog_owner(),
    )
    await catalog.client.get(
        f"/v1/msmes/{seeded['weavers']['id']}?wait_for_position={added.json()['position']}", headers=BUYER
    )
    assert sorted(await skus(catalog, "certification=fair_trade")) == ["RB-40", "RB-60"]
    assert sorted(await skus(catalog, "certification=Rainforest%20Alliance")) == ["RB-40", "RB-60"]
    both = "certification=fair_trade&certification=halal"
    assert await skus(catalog, both) == []  # every certification asked for must be held
    assert await skus(catalog, "certification=fair_trade&certified_on=2025-12-31") == []


async def test_pages_follow_a_stable_order_by_cursor(catalog: Catalog) -> None:
    await _seed(catalog)
    seen: list[str] = []
    cursor = ""
    for _ in range(5):
        response = await catalog.client.get(f"/v1/products?limit=1{cursor}", headers=BUYER)
        page = response.json()
        seen += [item["id"] for item in page["items"]]
        if page["next_cursor"] is None:
            break
        cursor = f"&cursor={page['next_cursor']}"
    assert len(seen) == len(set(seen)) == 4 and seen == sorted(seen)
    everything = await catalog.client.get("/v1/products?limit=500", headers=BUYER)
    assert [item["id"] for item in everything.json()["items"]] == seen
    assert everything.json()["next_cursor"] is None


async def test_products_of_a_suspended_msme_are_hidden_unless_an_aggregator_asks(catalog: Catalog) -> None:
    seeded = await _seed(catalog)
    suspended = await catalog.client.patch(
        f"/v1/msmes/{seeded['carvers']['id']}", json={"status": "suspended"}, headers=ADMIN
    )
    await catalog.client.get(
        f"/v1/msmes/{seeded['carvers']['id']}?wait_for_position={suspended.json()['position']}", headers=BUYER
    )
    assert await skus(catalog, "category=furniture") == []
    assert await skus(catalog, "category=furniture&include_suspended=true", AGGREGATOR) == ["TBL-1"]
    forbidden = await catalog.client.get("/v1/products?include_suspended=true", headers=BUYER)
    assert forbidden.status_code == 403


async def test_an_msme_update_reaches_its_products_in_search(catalog: Catalog) -> None:
    seeded = await _seed(catalog)
    moved = await catalog.client.patch(
        f"/v1/msmes/{seeded['weavers']['id']}",
        json={"city": "Bandung", "name": "Anyaman Priangan"},
        headers=catalog_owner(),
    )
    await catalog.client.get(
        f"/v1/msmes/{seeded['weavers']['id']}?wait_for_position={moved.json()['position']}", headers=BUYER
    )
    assert sorted(await skus(catalog, "city=Bandung")) == ["RB-40", "RB-60"]
    assert sorted(await skus(catalog, "q=priangan")) == ["RB-40", "RB-60"]
    assert await skus(catalog, "city=Cirebon") == []


async def test_bad_search_parameters_name_the_parameter(catalog: Catalog) -> None:
    cases = {
        "hs=4": {"hs"},
        "hs=46AB": {"hs"},
        "province=Atlantis&city=Gotham": {"province", "city"},
        "available_from=2027-13": {"available_from"},
        "available_from=2027-03&available_to=2027-01": {"available_to"},
        "cursor=not-a-cursor": {"cursor"},
        "limit=0": {"limit"},
        "limit=501": {"limit"},
        "min_available=-1": {"min_available"},
        "min_available=1000000000000": {"min_available"},
        "standard_version=99999999999&standard=00000000-0000-0000-0000-000000000001": {"standard_version"},
        "standard=not-a-uuid": {"standard"},
        "standard_version=2": {"standard_version"},
        "certified_on=yesterday": {"certified_on"},
        "q=%21%21%21": {"q"},
    }
    for query, expected in cases.items():
        response = await catalog.client.get(f"/v1/products?{query}", headers=BUYER)
        assert response.status_code == 422, (query, response.text)
        assert fields(response) == expected, query
