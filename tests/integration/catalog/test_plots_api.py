"""Plots over HTTP: an MSME's organisation or the aggregator that registered it records production places."""

from __future__ import annotations

from typing import Any

import pytest

from shared.auth import Role
from tests.integration.catalog.conftest import ADMIN, AGGREGATOR, BUYER, CARVERS, WEAVERS, Catalog
from tests.support.app import token

pytestmark = pytest.mark.integration

OTHER_AGGREGATOR = token(Role.AGGREGATOR, org="sumatra-exports", sub="ayu")
GAYO = [[[96.85, 4.62], [96.86, 4.62], [96.86, 4.63], [96.85, 4.63], [96.85, 4.62]]]


def plot_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Kebun Kopi Gayo 1",
        "geometry": {"type": "Polygon", "coordinates": GAYO},
        "country": "ID",
        "region": "Aceh",
        "commodity": "coffee",
        "harvest": {"start": "2026-05-01", "end": "2026-08-31"},
        "evidence": {"document_reference": "KLHK-2024-0091", "as_of": "2024-03-01"},
    }
    body.update(overrides)
    return body


def problems(response: Any) -> dict[str, str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return {e["field"]: e["message"] for e in response.json()["errors"]}


async def test_the_registering_aggregator_records_plots_and_lists_them_by_commodity(catalog: Catalog) -> None:
    msme = await catalog.register(AGGREGATOR, org="gayo-farmers", province="Aceh", city="Aceh Tengah")
    url = f"/v1/msmes/{msme['id']}/plots"
    made = await catalog.client.post(url, json=plot_body(), headers=AGGREGATOR)
    assert made.status_code == 201, made.text
    plot = made.json()
    assert plot["area_source"] == "geodesic" and 120 < float(plot["area_hectares"]) < 125
    assert plot["status"] == "active" and plot["deforestation_free"] is True and plot["version"] == 1
    point = plot_body(
        name="Kebun 2", geometry={"type": "Point", "coordinates": [96.87, 4.64]}, area_hectares="1.25", evidence=None
    )
    second = (await catalog.client.post(url, json=point, headers=AGGREGATOR)).json()
    assert second["deforestation_free"] is False and second["area_hectares"] == "1.25"
    cocoa = (await catalog.client.post(url, json=plot_body(name="Kakao", commodity="cocoa"), headers=AGGREGATOR)).json()

    wait = f"wait_for_position={cocoa['position']}"
    listed = await catalog.client.get(f"{url}?commodity=coffee&limit=1&{wait}", headers=AGGREGATOR)
    assert listed.status_code == 200, listed.text
    page = listed.json()
    assert [p["id"] for p in page["items"]] == [plot["id"]] and page["next_cursor"]
    rest = (await catalog.client.get(f"{url}?commodity=coffee&cursor={page['next_cursor']}", headers=AGGREGATOR)).json()
    assert [p["id"] for p in rest["items"]] == [second["id"]] and rest["next_cursor"] is None
    got = await catalog.client.get(f"/v1/plots/{cocoa['id']}", headers=OTHER_AGGREGATOR)
    assert got.status_code == 200 and got.json()["geometry"] == {"type": "Polygon", "coordinates": GAYO}


async def test_a_withdrawn_plot_stays_listed_as_withdrawn(catalog: Catalog) -> None:
    msme = await catalog.register(WEAVERS)
    plot = (await catalog.client.post(f"/v1/msmes/{msme['id']}/plots", json=plot_body(), headers=WEAVERS)).json()
    withdraw = f"/v1/plots/{plot['id']}/withdraw"
    done = await catalog.client.post(withdraw, json={"reason": "land sold"}, headers=WEAVERS)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "withdrawn" and done.json()["version"] == 2
    again = await catalog.client.post(withdraw, json={"reason": "again"}, headers=WEAVERS)
    assert again.status_code == 409
    wait = f"wait_for_position={done.json()['position']}"
    active = (await catalog.client.get(f"/v1/msmes/{msme['id']}/plots?status=active&{wait}", headers=WEAVERS)).json()
    assert active["items"] == []
    withdrawn = (await catalog.client.get(f"/v1/msmes/{msme['id']}/plots?status=withdrawn", headers=WEAVERS)).json()
    assert [(p["id"], p["withdrawn_reason"]) for p in withdrawn["items"]] == [(plot["id"], "land sold")]


async def test_only_the_owner_the_registering_aggregator_or_an_admin_record_plots(catalog: Catalog) -> None:
    msme = await catalog.register(AGGREGATOR, org="gayo-farmers", province="Aceh", city="Aceh Tengah")
    url = f"/v1/msmes/{msme['id']}/plots"
    for stranger in (CARVERS, OTHER_AGGREGATOR):
        assert (await catalog.client.post(url, json=plot_body(), headers=stranger)).status_code == 403
    assert (await catalog.client.post(url, json=plot_body(), headers=BUYER)).status_code == 403
    assert (await catalog.client.get(url, headers=BUYER)).status_code == 403
    assert (await catalog.client.get(url, headers=CARVERS)).status_code == 403
    assert (await catalog.client.post(url, json=plot_body(), headers=ADMIN)).status_code == 201
    missing = "/v1/msmes/01890000-0000-7000-8000-0000000000ff/plots"
    assert (await catalog.client.post(missing, json=plot_body(), headers=ADMIN)).status_code == 404


async def test_bad_geometry_is_refused_naming_the_ring_and_its_problem(catalog: Catalog) -> None:
    msme = await catalog.register(WEAVERS)
    url = f"/v1/msmes/{msme['id']}/plots"
    open_ring = plot_body(geometry={"type": "Polygon", "coordinates": [GAYO[0][:-1]]})
    assert (
        "not closed"
        in problems(await catalog.client.post(url, json=open_ring, headers=WEAVERS))["geometry.coordinates[0]"]
    )
    clockwise = plot_body(geometry={"type": "Polygon", "coordinates": [GAYO[0][::-1]]})
    assert (
        "winding"
        in problems(await catalog.client.post(url, json=clockwise, headers=WEAVERS))["geometry.coordinates[0]"]
    )
    big_point = plot_body(geometry={"type": "Point", "coordinates": [96.87, 4.64]}, area_hectares="12")
    assert set(problems(await catalog.client.post(url, json=big_point, headers=WEAVERS))) == {"geometry"}
    line = plot_body(geometry={"type": "LineString", "coordinates": [[96.87, 4.64], [96.88, 4.64]]})
    assert set(problems(await catalog.client.post(url, json=line, headers=WEAVERS))) == {"geometry.type"}
    precise = plot_body(geometry={"type": "Point", "coordinates": [96.8712345, 4.64]}, area_hectares="1")
    assert (
        "6 decimals" in problems(await catalog.client.post(url, json=precise, headers=WEAVERS))["geometry.coordinates"]
    )


async def test_an_msme_holds_a_bounded_number_of_active_plots(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("services.catalog.domain.plot.MAX_PLOTS_PER_MSME", 2)  # 10,000 in service
    msme = await catalog.register(WEAVERS)
    url = f"/v1/msmes/{msme['id']}/plots"
    made = [(await catalog.client.post(url, json=plot_body(name=f"Kebun {n}"), headers=WEAVERS)).json() for n in (1, 2)]
    await catalog.client.get(f"{url}?wait_for_position={made[-1]['position']}", headers=WEAVERS)
    refused = await catalog.client.post(url, json=plot_body(name="Kebun 3"), headers=WEAVERS)
    assert refused.status_code == 409, refused.text
    assert refused.json()["type"] == "/problems/too-many-plots" and refused.json()["limit"] == 2
    withdrawn = await catalog.client.post(
        f"/v1/plots/{made[0]['id']}/withdraw", json={"reason": "sold"}, headers=WEAVERS
    )
    await catalog.client.get(f"{url}?wait_for_position={withdrawn.json()['position']}", headers=WEAVERS)
    assert (await catalog.client.post(url, json=plot_body(name="Kebun 3"), headers=WEAVERS)).status_code == 201
