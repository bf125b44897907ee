"""Listing MSMEs: filters, pages, and who sees suspended ones."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.catalog.conftest import ADMIN, AGGREGATOR, BUYER, CARVERS, WEAVERS, Catalog

pytestmark = pytest.mark.integration

HALAL = {"kind": "halal", "number": "ID00410000123450423", "issuer": "BPJPH", "valid_from": "2025-01-01"}


async def listed(catalog: Catalog, query: str, headers: dict[str, str], position: int) -> list[dict[str, Any]]:
    response = await catalog.client.get(f"/v1/msmes?wait_for_position={position}&{query}", headers=headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_an_aggregator_lists_the_msmes_it_onboarded_and_filters_them(catalog: Catalog) -> None:
    own = await catalog.register(WEAVERS, name="Rotan Cirebon Jaya")
    jepara = {"province": "Jawa Tengah", "city": "Jepara"}
    carvers = await catalog.register(
        AGGREGATOR, org="jepara-carvers", name="Ukir Jepara", nib="9120001234568", **jepara
    )
    weavers = await catalog.register(AGGREGATOR, org="koperasi-mendong", name="Mendong_50%", nib="9120001234569")
    certified = await catalog.client.post(
        f"/v1/msmes/{carvers['id']}/certifications", json={**HALAL, "valid_until": "2027-12-31"}, headers=ADMIN
    )
    assert certified.status_code == 201, certified.text
    last = certified.json()["position"]

    onboarded = await listed(catalog, "registered_by=nusantara-trading", AGGREGATOR, last)
    assert [m["id"] for m in onboarded] == sorted([carvers["id"], weavers["id"]])
    assert {m["registered_by"] for m in onboarded} == {"nusantara-trading"}
    assert [m["id"] for m in await listed(catalog, "org=cirebon-weavers", BUYER, last)] == [own["id"]]
    assert [m["id"] for m in await listed(catalog, "province=jawa%20tengah", BUYER, last)] == [carvers["id"]]
    assert [m["id"] for m in await listed(catalog, "province=Jawa%20Tengah&city=jepara", BUYER, last)] == [
        carvers["id"]
    ]
    assert [m["id"] for m in await listed(catalog, "certification=HALAL", BUYER, last)] == [carvers["id"]]
    assert await listed(catalog, "certification=halal&certified_on=2028-01-01", BUYER, last) == []
    # a name filter matches a part of the name, and % or _ in it are plain characters
    assert [m["id"] for m in await listed(catalog, "q=ukir", BUYER, last)] == [carvers["id"]]
    assert [m["id"] for m in await listed(catalog, "q=_50%25", BUYER, last)] == [weavers["id"]]
    assert [m["id"] for m in await listed(catalog, "q=%25", BUYER, last)] == [weavers["id"]]


async def test_pages_follow_the_cursor_to_the_end(catalog: Catalog) -> None:
    ids = []
    for n in range(5):
        ids.append((await catalog.register(WEAVERS, name=f"Rotan {n}", nib=f"91200012345{n:02d}"))["id"])
    position = (await catalog.register(WEAVERS, name="Rotan 5", nib="9120001234599"))["position"]
    seen: list[str] = []
    url = f"/v1/msmes?limit=2&org=cirebon-weavers&wait_for_position={position}"
    while url:
        page = (await catalog.client.get(url, headers=BUYER)).json()
        assert len(page["items"]) <= 2
        seen += [m["id"] for m in page["items"]]
        url = f"/v1/msmes?limit=2&org=cirebon-weavers&cursor={page['next_cursor']}" if page["next_cursor"] else ""
    assert len(seen) == 6 and seen == sorted(seen) and set(ids) <= set(seen)


async def test_suspended_msmes_show_to_aggregators_admins_and_their_own_users_only(catalog: Catalog) -> None:
    carvers = await catalog.register(CARVERS, name="Ukir Jepara")
    suspended = await catalog.client.patch(
        f"/v1/msmes/{carvers['id']}", json={"status": "suspended", "status_reason": "NIB under review"}, headers=ADMIN
    )
    position = suspended.json()["position"]
    for reader in (AGGREGATOR, ADMIN, CARVERS):
        assert [m["status"] for m in await listed(catalog, "", reader, position)] == ["suspended"]
    for stranger in (BUYER, WEAVERS):
        assert await listed(catalog, "", stranger, position) == []
        assert await listed(catalog, "status=suspended", stranger, position) == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=closed", "status"),
        ("province=Atlantis", "province"),
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("cursor=bm90LWEtY3Vyc29y", "cursor"),
        ("q=" + "x" * 201, "q"),
        ("certified_on=2026-13-01", "certified_on"),
    ],
)
async def test_bad_filters_are_422_naming_the_parameter(catalog: Catalog, query: str, field: str) -> None:
    response = await catalog.client.get(f"/v1/msmes?{query}", headers=BUYER)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in {e["field"] for e in response.json()["errors"]}


async def test_listing_needs_a_token(catalog: Catalog) -> None:
    assert (await catalog.client.get("/v1/msmes")).status_code == 401
