"""Products over HTTP: listing, reading, updating, declaring monthly capacity, and who may do it."""

from __future__ import annotations

import pytest

from tests.integration.catalog.conftest import ADMIN, AGGREGATOR, BUYER, CARVERS, WEAVERS, Catalog, product_body
from tests.integration.catalog.test_msmes_api import fields

pytestmark = pytest.mark.integration

UNKNOWN = "01890000-0000-7000-8000-000000000000"
SQUARE = [[[108.55, -6.70], [108.56, -6.70], [108.56, -6.71], [108.55, -6.71], [108.55, -6.70]]]


async def test_an_msme_lists_a_product_and_anyone_reads_it(catalog: Catalog) -> None:
    msme = await catalog.register(WEAVERS)
    plots = [{"geometry": {"type": "Polygon", "coordinates": SQUARE}, "area_hectares": "12.5", "name": "Kebun A"}]
    standard = {"standard_id": "01890000-0000-7000-8000-00000000057d", "version": 2}
    listed = await catalog.list_product(msme["id"], standards=[standard], origin_plots=plots)
    assert listed["hs_code"] == "46021210" and listed["currency"] == "USD" and listed["version"] == 1
    assert listed["price_tiers"][0] == {"min_quantity": 100, "unit_price": {"amount": "6.50", "currency": "USD"}}
    assert (listed["msme_name"], listed["city"], listed["org"]) == ("Rotan Cirebon Jaya", "Cirebon", "cirebon-weavers")
    read = await catalog.client.get(
        f"/v1/products/{listed['id']}?wait_for_position={listed['position']}", headers=BUYER
    )
    assert read.status_code == 200, read.text
    product = read.json()
    assert product["standards"] == [standard] and product["origin_plots"][0]["geometry"]["type"] == "Polygon"
    assert product["origin_plots"][0]["area_hectares"] == "12.5" and product["capacity"] == []
    assert product["province"] == "Jawa Barat" and product["version"] == 1
    profile = await catalog.client.get(f"/v1/msmes/{msme['id']}", headers=BUYER)
    assert profile.json()["product_count"] == 1


async def test_skus_are_unique_within_an_msme_but_not_across_msmes(catalog: Catalog) -> None:
    weavers = await catalog.register(WEAVERS)
    await catalog.list_product(weavers["id"], sku="RB-40")
    clash = await catalog.client.post(
        f"/v1/msmes/{weavers['id']}/products", json=product_body(sku="rb-40"), headers=WEAVERS
    )
    assert clash.status_code == 409 and clash.json()["type"].endswith("/duplicate-sku")
    carvers = await catalog.register(CARVERS, nib="3320001234567", city="Jepara", province="Jawa Tengah")
    await catalog.list_product(carvers["id"], CARVERS, sku="RB-40")


async def test_only_the_owner_or_an_admin_lists_products(catalog: Catalog) -> None:
    msme = await catalog.register(WEAVERS)
    url = f"/v1/msmes/{msme['id']}/products"
    for stranger in (CARVERS, BUYER, AGGREGATOR):
        assert (await catalog.client.post(url, json=product_body(), headers=stranger)).status_code == 403
    assert (await catalog.client.post(url, json=product_body(), headers=ADMIN)).status_code == 201
    missing = await catalog.client.post(f"/v1/msmes/{UNKNOWN}/products", json=product_body(), headers=ADMIN)
    assert missing.status_code == 404


async def test_a_suspended_msme_cannot_list_or_declare(catalog: Catalog) -> None:
    msme = await catalog.register(WEAVERS)
    product = await catalog.list_product(msme["id"])
    await catalog.client.patch(f"/v1/msmes/{msme['id']}", json={"status": "suspended"}, headers=ADMIN)
    listing = await catalog.client.post(
        f"/v1/msmes/{msme['id']}/products", json=product_body(sku="NEW-1"), headers=WEAVERS
    )
    assert listing.status_code == 409 and listing.json()["type"].endswith("/msme-suspended")
    declare = await catalog.client.put(
        f"/v1/products/{product['id']}/capacity", json={"months": {"2027-01": 10}}, headers=WEAVERS
    )
    assert declare.status_code == 409


async def test_bad_products_are_refused_naming_every_field(catalog: Catalog) -> None:
    msme = await catalog.register(WEAVERS)
    url = f"/v1/msmes/{msme['id']}/products"
    shape = await catalog.client.post(
        url,
        json=product_body(moq=0, lead_time_days="soon", price_tiers=[{"min_quantity": 1}], extra=True),
        headers=WEAVERS,
    )
    assert shape.status_code == 422
    assert fields(shape) == {"moq", "lead_time_days", "price_tiers[0].unit_price", "extra"}
    rules = await catalog.client.post(
        url,
        json=product_body(
            hs_code="46-02",
            unit="PCS",
            category="Home Decor",
            price_tiers=[
                {"min_quantity": 100, "unit_price": {"amount": "6.50", "currency": "USD"}},
                {"min_quantity": 500, "unit_price": {"amount": "6.00", "currency": "EUR"}},
            ],
            origin_plots=[{"geometry": {"type": "Polygon", "coordinates": [SQUARE[0][:-1]]}, "area_hectares": "3"}],
        ),
        headers=WEAVERS,
    )
    assert rules.status_code == 422
    assert fields(rules) == {
        "hs_code",
        "unit",
        "category",
        "price_tiers[1].unit_price.currency",
        "origin_plots[0].geometry.coordinates[0]",
    }
    geometry = await catalog.client.post(
        url,
        json=product_body(origin_plots=[{"geometry": {"type": "LineString", "coordinates": []}, "area_hectares": 1}]),
        headers=WEAVERS,
    )
    assert geometry.status_code == 422 and fields(geometry) == {"origin_plots[0].geometry.type"}
    currency = await catalog.client.post(
        url,
        json=product_body(price_tiers=[{"min_quantity": 100, "unit_price": {"amount": "1", "currency": "usd"}}]),
        headers=WEAVERS,
    )
    assert currency.status_code == 422 and fields(currency) == {"price_tiers[0].unit_price.currency"}


async def test_the_owner_updates_a_product_and_a_renamed_sku_becomes_free(catalog: Catalog) -> None:
    msme = await catalog.register(WEAVERS)
    first = await catalog.list_product(msme["id"], sku="RB-40")
    second = await catalog.list_product(msme["id"], sku="RB-50")
    url = f"/v1/products/{first['id']}"
    taken = await catalog.client.patch(url, json={"sku": "RB-50"}, headers=WEAVERS)
    assert taken.status_code == 409
    stale = await catalog.client.patch(url, json={"sku": "RB-41"}, headers={**WEAVERS, "If-Match": "9"})
    assert stale.status_code == 412
    renamed = await catalog.client.patch(
        url,
        json={"sku": "RB-41", "price_tiers": [{"min_quantity": 50, "unit_price": {"amount": "7", "currency": "EUR"}}]},
        headers={**WEAVERS, "If-Match": "1"},
    )
    assert renamed.status_code == 200, renamed.text
    body = renamed.json()
    assert (body["sku"], body["currency"], body["version"]) == ("RB-41", "EUR", 2)
    read = await catalog.client.get(f"{url}?wait_for_position={body['position']}", headers=BUYER)
    assert read.json()["sku"] == "RB-41" and read.json()["currency"] == "EUR" and read.json()["version"] == 2
    reuse = await catalog.client.patch(f"/v1/products/{second['id']}", json={"sku": "RB-40"}, headers=WEAVERS)
    assert reuse.status_code == 200 and reuse.json()["sku"] == "RB-40"


async def test_nobody_else_updates_a_product_and_bad_updates_name_the_field(catalog: Catalog) -> None:
    msme = await catalog.register(WEAVERS)
    product = await catalog.list_product(msme["id"])
    url = f"/v1/products/{product['id']}"
    for stranger in (CARVERS, BUYER, AGGREGATOR):
        assert (await catalog.client.patch(url, json={"name": "x"}, headers=stranger)).status_code == 403
    assert (await catalog.client.patch(url, json={"name": "Admin fix"}, headers=ADMIN)).status_code == 200
    bad = await catalog.client.patch(url, json={"hs_code": "12", "msme_id": UNKNOWN}, headers=WEAVERS)
    assert bad.status_code == 422 and fields(bad) == {"msme_id"}
    bad = await catalog.client.patch(url, json={"hs_code": "12", "unit": "XXX"}, headers=WEAVERS)
    assert bad.status_code == 422 and fields(bad) == {"hs_code", "unit"}
    assert (await catalog.client.patch(f"/v1/products/{UNKNOWN}", json={"name": "x"}, headers=ADMIN)).status_code == 404
    assert (await catalog.client.get(f"/v1/products/{UNKNOWN}", headers=BUYER)).status_code == 404


async def test_capacity_is_declared_for_future_months_only(catalog: Catalog) -> None:
    msme = await catalog.register(WEAVERS)
    product = await catalog.list_product(msme["id"])
    url = f"/v1/products/{product['id']}/capacity"
    declared = await catalog.client.put(url, json={"months": {"2027-02": 300, "2026-11": 250}}, headers=WEAVERS)
    assert declared.status_code == 200, declared.text
    body = declared.json()
    assert body["capacity"] == [
        {"month": "2026-11", "declared": 250, "committed": 0, "available": 250},
        {"month": "2027-02", "declared": 300, "committed": 0, "available": 300},
    ]
    assert body["version"] == 3
    read = await catalog.client.get(f"/v1/products/{product['id']}?wait_for_position={body['position']}", headers=BUYER)
    assert read.json()["capacity"] == body["capacity"] and read.json()["version"] == 3
    now = await catalog.client.put(url, json={"months": {"2026-10": 300, "2026-09": 1, "2027-01": 5}}, headers=WEAVERS)
    assert now.status_code == 422 and fields(now) == {"months.2026-10", "months.2026-09"}
    bad = await catalog.client.put(url, json={"months": {"next": 3, "2027-03": -4}}, headers=WEAVERS)
    assert bad.status_code == 422 and fields(bad) == {"months.next", "months.2027-03"}
    empty = await catalog.client.put(url, json={"months": {}}, headers=WEAVERS)
    assert empty.status_code == 422 and fields(empty) == {"months"}
    stale = await catalog.client.put(url, json={"months": {"2027-01": 5}}, headers={**WEAVERS, "If-Match": "1"})
    assert stale.status_code == 412


async def test_only_the_owner_or_an_admin_declares_capacity(catalog: Catalog) -> None:
    msme = await catalog.register(WEAVERS)
    product = await catalog.list_product(msme["id"])
    url = f"/v1/products/{product['id']}/capacity"
    for stranger in (CARVERS, BUYER, AGGREGATOR):
        assert (await catalog.client.put(url, json={"months": {"2027-01": 1}}, headers=stranger)).status_code == 403
    assert (await catalog.client.put(url, json={"months": {"2027-01": 1}}, headers=ADMIN)).status_code == 200
    missing = await catalog.client.put(
        f"/v1/products/{UNKNOWN}/capacity", json={"months": {"2027-01": 1}}, headers=ADMIN
    )
    assert missing.status_code == 404


async def test_who_may_change_the_products_is_asked_before_which_standards_they_name(catalog: Catalog) -> None:
    msme = await catalog.register(WEAVERS)
    product = await catalog.list_product(msme["id"])
    unpublished = [{"standard_id": "01890000-0000-7000-8000-0000000000aa", "version": 1}]
    listing = f"/v1/msmes/{msme['id']}/products"
    update = f"/v1/products/{product['id']}"
    for stranger in (CARVERS, AGGREGATOR, BUYER):
        listed = await catalog.client.post(listing, json=product_body(standards=unpublished), headers=stranger)
        assert listed.status_code == 403, listed.text
        updated = await catalog.client.patch(update, json={"standards": unpublished}, headers=stranger)
        assert updated.status_code == 403, updated.text
    nowhere = await catalog.client.post(
        f"/v1/msmes/{UNKNOWN}/products", json=product_body(standards=unpublished), headers=ADMIN
    )
    assert nowhere.status_code == 404, nowhere.text
    gone = await catalog.client.patch(f"/v1/products/{UNKNOWN}", json={"standards": unpublished}, headers=ADMIN)
    assert gone.status_code == 404, gone.text
    owners = await catalog.client.post(listing, json=product_body(sku="NEW-1", standards=unpublished), headers=WEAVERS)
    assert owners.status_code == 422 and fields(owners) == {"standards[0].standard_id"}
    owners = await catalog.client.patch(update, json={"standards": unpublished}, headers=WEAVERS)
    assert owners.status_code == 422 and fields(owners) == {"standards[0].standard_id"}
