"""Standards over HTTP: versions, immutability once published, roles, listing and bad input."""

from __future__ import annotations

import pytest

from tests.integration.quality.fixtures import (
    ADMIN,
    AGGREGATOR,
    BUYER,
    INSPECTOR,
    MSME_USER,
    OTHER_INSPECTOR,
    Client,
    basket_standard,
    published_standard,
    version_body,
)

pytestmark = pytest.mark.integration


async def test_an_inspector_creates_a_draft_revises_it_publishes_it_and_a_published_version_is_immutable(
    client: Client,
) -> None:
    created = await client.post("/v1/standards", json=basket_standard(), headers=INSPECTOR)
    assert created.status_code == 201, created.text
    standard = created.json()
    assert standard["owner_org"] == "sucofindo-qc" and standard["version"] == 2 and standard["position"] > 0
    assert standard["latest_version"] == 1 and standard["latest_published"] is None
    first = standard["versions"][0]
    assert first["status"] == "draft" and first["qualification_lots"] == 2
    assert [c["aql"] for c in first["defect_classes"]] == ["0.065", "1.0", "4.0"]
    url = f"/v1/standards/{standard['id']}"

    revised = await client.put(f"{url}/versions/1", json=version_body(notes="check in daylight"), headers=INSPECTOR)
    assert revised.status_code == 200, revised.text
    assert revised.json()["versions"][0]["notes"] == "check in daylight"
    stale = await client.post(f"{url}/versions/1/publish", headers={**INSPECTOR, "If-Match": "1"})
    assert stale.status_code == 412
    published = await client.post(f"{url}/versions/1/publish", headers={**INSPECTOR, "If-Match": "3"})
    assert published.status_code == 200, published.text
    assert published.json()["latest_published"] == 1

    edit = await client.put(f"{url}/versions/1", json=version_body(notes="sneaky"), headers=INSPECTOR)
    assert edit.status_code == 409 and edit.json()["type"] == "/problems/version-published"
    again = await client.post(f"{url}/versions/1/publish", headers=INSPECTOR)
    assert again.status_code == 409

    second = await client.post(
        f"{url}/versions", json=version_body(publish=True, allow_reduced=True), headers=INSPECTOR
    )
    assert second.status_code == 201, second.text
    read = await client.get(f"{url}?wait_for_position={second.json()['position']}", headers=BUYER)
    assert read.status_code == 200
    versions = read.json()["versions"]
    assert [(v["version"], v["status"], v["allow_reduced"]) for v in versions] == [
        (1, "published", False),
        (2, "published", True),
    ]
    assert versions[0]["notes"] == "check in daylight" and read.json()["latest_published"] == 2


async def test_only_inspectors_and_admins_write_standards_and_only_the_owning_organisation_changes_one(
    client: Client,
) -> None:
    for caller in (BUYER, AGGREGATOR, MSME_USER):
        refused = await client.post("/v1/standards", json=basket_standard(), headers=caller)
        assert refused.status_code == 403 and refused.headers["content-type"].startswith("application/problem+json")
    draft = (await client.post("/v1/standards", json=basket_standard(), headers=INSPECTOR)).json()
    url = f"/v1/standards/{draft['id']}"
    assert (await client.post(f"{url}/versions/1/publish", headers=OTHER_INSPECTOR)).status_code == 403
    assert (await client.post(f"{url}/versions/1/publish", headers=MSME_USER)).status_code == 403
    by_admin = await client.post(f"{url}/versions/1/publish", headers=ADMIN)
    assert by_admin.status_code == 200
    assert (await client.post(f"{url}/versions/2/publish", headers=INSPECTOR)).status_code == 404
    missing = "/v1/standards/01890000-0000-7000-8000-000000000000"
    assert (await client.get(missing, headers=BUYER)).status_code == 404
    assert (await client.post(f"{missing}/versions/1/publish", headers=INSPECTOR)).status_code == 404
    read = await client.get(f"{url}?wait_for_position={by_admin.json()['position']}", headers=MSME_USER)
    assert read.status_code == 200, "every role reads standards"


async def test_bad_standards_get_problem_details_naming_every_field(client: Client) -> None:
    body = basket_standard(
        defect_classes=[{"defect_class": "major", "aql": "0.3"}, {"defect_class": "fatal", "aql": "1.0"}],
        inspection_level="IV",
        qualification_lots=0,
        colour="red",
    )
    body["attributes"][0]["unit"] = ""
    response = await client.post("/v1/standards", json=body, headers=INSPECTOR)
    assert response.status_code == 422, response.text
    fields = {e["field"] for e in response.json()["errors"]}
    assert {
        "defect_classes[1].defect_class",
        "inspection_level",
        "qualification_lots",
        "colour",
        "attributes[0].unit",
    } <= fields

    series = await client.post(
        "/v1/standards",
        json=basket_standard(
            defect_classes=[
                {"defect_class": "major", "aql": "0.3"},
                {"defect_class": "minor", "aql": "2000"},
            ]
        ),
        headers=INSPECTOR,
    )
    assert series.status_code == 422
    assert {e["field"] for e in series.json()["errors"]} >= {
        "defect_classes[0].aql",
        "defect_classes[1].aql",
        "attributes[1].defect_class",
        "checks[0].defect_class",
    }
    assert "0.010" in series.json()["errors"][0]["message"]
    no_classes = await client.post("/v1/standards", json=basket_standard(defect_classes=[]), headers=INSPECTOR)
    assert no_classes.status_code == 422 and no_classes.json()["errors"][0]["field"] == "defect_classes"


async def test_standards_are_listed_in_pages_and_filtered_by_name_and_owner(client: Client) -> None:
    position = 0
    for index in range(5):
        caller = INSPECTOR if index < 4 else OTHER_INSPECTOR
        created = await client.post("/v1/standards", json=basket_standard(name=f"Batik scarf {index}"), headers=caller)
        position = created.json()["position"]
    first = await client.get(f"/v1/standards?limit=2&wait_for_position={position}", headers=BUYER)
    assert first.status_code == 200
    page = first.json()
    assert [s["name"] for s in page["items"]] == ["Batik scarf 0", "Batik scarf 1"] and page["next_cursor"]
    names = [s["name"] for s in page["items"]]
    cursor = page["next_cursor"]
    while cursor:
        page = (await client.get(f"/v1/standards?limit=2&cursor={cursor}", headers=BUYER)).json()
        names += [s["name"] for s in page["items"]]
        cursor = page["next_cursor"]
    assert names == [f"Batik scarf {i}" for i in range(5)]
    mine = (await client.get("/v1/standards?owner_org=bureau-qc", headers=BUYER)).json()["items"]
    assert [s["name"] for s in mine] == ["Batik scarf 4"]
    found = (await client.get("/v1/standards?q=SCARF 3", headers=BUYER)).json()["items"]
    assert [s["name"] for s in found] == ["Batik scarf 3"]
    bad = await client.get("/v1/standards?cursor=nonsense&limit=0", headers=BUYER)
    assert bad.status_code == 422


async def test_a_standard_published_at_creation_is_usable_at_once(client: Client) -> None:
    standard = await published_standard(client)
    assert standard["versions"][0]["status"] == "published" and standard["latest_published"] == 1
