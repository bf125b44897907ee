"""Inspections over HTTP: plans per class, verdicts with reasons, once only, owned by the opening organisation."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

import pytest

from services.quality.use_cases import inspections as use_cases
from shared.auth import Principal, Role
from shared.eventstore import Metadata
from shared.kernel.errors import Conflict
from shared.kernel.ids import new_id
from shared.runtime import Runtime
from tests.integration.quality.fixtures import (
    ADMIN,
    AGGREGATOR,
    BUYER,
    INSPECTOR,
    MSME_USER,
    OTHER_INSPECTOR,
    POOL_ID,
    Client,
    basket_standard,
    open_lot,
    published_standard,
    record,
)

pytestmark = pytest.mark.integration

MSME_ID = UUID("01890000-0000-7000-8000-00000000c001")


def plans(inspection: dict[str, Any]) -> dict[str, tuple[int, int, int, bool]]:
    return {
        p["defect_class"]: (p["sample_size"], p["accept"], p["reject"], p["inspect_whole_lot"])
        for p in inspection["plans"]
    }


async def test_a_lot_gets_a_plan_per_defect_class_and_a_verdict_with_reasons(client: Client) -> None:
    standard = await published_standard(client)
    opened = await open_lot(client, standard, MSME_ID, lot_size=500)
    assert opened["status"] == "open" and opened["severity"] == "normal" and opened["version"] == 1
    assert opened["inspector_org"] == "sucofindo-qc" and opened["pool_id"] == str(POOL_ID)
    assert plans(opened) == {
        "critical": (200, 0, 1, False),
        "major": (50, 1, 2, False),
        "minor": (50, 5, 6, False),
    }
    measurements = [
        {"attribute": "diameter", "values": ["30.2", "29.6", "31.0"]},
        {"attribute": "moisture", "values": [11, 13.5, 14]},
    ]
    judged = await record(client, opened, critical=0, major=1, minor=2, measurements=measurements)
    assert judged["status"] == "rejected" and judged["version"] == 2 and judged["position"] > 0
    verdict = judged["verdict"]
    by_class = {v["defect_class"]: v for v in verdict["verdicts"]}
    assert (by_class["major"]["reported_defects"], by_class["major"]["measurement_defects"]) == (1, 1)
    assert by_class["major"]["accepted"] is False and by_class["critical"]["accepted"] is True
    assert verdict["reasons"] == [
        "major: 2 defects (1 reported, 1 out-of-tolerance measurement) in a sample of 50 reaches Re 2 (AQL 1.0):"
        " rejected"
    ]
    again = await client.post(f"/v1/inspections/{opened['id']}/results", json={"defects": {}}, headers=INSPECTOR)
    assert again.status_code == 409 and again.json()["type"] == "/problems/results-recorded"

    read = await client.get(f"/v1/inspections/{opened['id']}?wait_for_position={judged['position']}", headers=INSPECTOR)
    assert read.status_code == 200 and read.json()["verdict"] == verdict and read.json()["status"] == "rejected"


async def test_a_small_lot_is_inspected_whole_where_the_plan_asks_for_more_than_the_lot(client: Client) -> None:
    standard = await published_standard(client)
    opened = await open_lot(client, standard, MSME_ID, lot_size=12)
    assert plans(opened) == {"critical": (12, 0, 1, True), "major": (12, 0, 1, True), "minor": (3, 0, 1, False)}
    judged = await record(client, opened)
    assert judged["status"] == "accepted" and judged["verdict"]["accepted"] is True


async def test_a_first_article_qualifies_the_msme_when_every_unit_conforms(client: Client) -> None:
    standard = await published_standard(client)
    body = {
        "kind": "first_article",
        "msme_id": str(MSME_ID),
        "product_id": str(new_id()),
        "standard_id": standard["id"],
        "standard_version": 1,
        "sample_size": 8,
    }
    opened = await client.post("/v1/inspections", json=body, headers=INSPECTOR)
    assert opened.status_code == 201, opened.text
    assert set(plans(opened.json()).values()) == {(8, 0, 1, False)}
    judged = await record(client, opened.json())
    assert judged["kind"] == "first_article" and judged["status"] == "accepted"
    quality = await client.get(f"/v1/msmes/{MSME_ID}/quality?wait_for_position={judged['position']}", headers=BUYER)
    (record_,) = quality.json()["standards"]
    assert record_["state"] == {
        "qualified": True,
        "qualified_by": "first_article",
        "severity": "normal",
        "discontinued": False,
    }


async def test_only_the_opening_organisation_and_admins_record_results_and_read_an_inspection(client: Client) -> None:
    standard = await published_standard(client)
    opened = await open_lot(client, standard, MSME_ID)
    url = f"/v1/inspections/{opened['id']}"
    results = {"defects": {"critical": 0, "major": 0, "minor": 0}}
    for caller in (BUYER, AGGREGATOR, MSME_USER):
        assert (await client.post(f"{url}/results", json=results, headers=caller)).status_code == 403
        opening = {"msme_id": str(MSME_ID), "standard_id": standard["id"], "standard_version": 1}
        assert (await client.post("/v1/inspections", json=opening, headers=caller)).status_code == 403
    assert (await client.post(f"{url}/results", json=results, headers=OTHER_INSPECTOR)).status_code == 404
    await client.get(f"{url}?wait_for_position={opened['position']}", headers=INSPECTOR)
    for caller in (OTHER_INSPECTOR, BUYER, AGGREGATOR, MSME_USER):
        assert (await client.get(url, headers=caller)).status_code == 404, "not theirs to see"
    assert (await client.get(url, headers=ADMIN)).status_code == 200
    by_admin = await client.post(f"{url}/results", json=results, headers={**ADMIN, "If-Match": "1"})
    assert by_admin.status_code == 201 and by_admin.json()["verdict"]["recorded_by"] == "root"
    assert (
        await client.post(f"/v1/inspections/{new_id()}/results", json=results, headers=INSPECTOR)
    ).status_code == 404
    assert (await client.get(f"/v1/inspections/{new_id()}", headers=ADMIN)).status_code == 404


async def test_opening_an_inspection_names_every_bad_field(client: Client) -> None:
    standard = await published_standard(client)
    lot_without_lot = {"msme_id": str(MSME_ID), "standard_id": standard["id"], "standard_version": 1, "sample_size": 3}
    response = await client.post("/v1/inspections", json=lot_without_lot, headers=INSPECTOR)
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"lot_id", "pool_id", "lot_size", "sample_size"}
    article = {"kind": "first_article", "msme_id": str(MSME_ID), "standard_id": standard["id"], "standard_version": 1}
    response = await client.post("/v1/inspections", json={**article, "resubmitted": True}, headers=INSPECTOR)
    assert {e["field"] for e in response.json()["errors"]} == {"product_id", "sample_size", "resubmitted"}
    broken = {"msme_id": "nope", "standard_id": standard["id"], "standard_version": 0, "lot_size": 1, "kind": "crate"}
    response = await client.post("/v1/inspections", json=broken, headers=INSPECTOR)
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"msme_id", "standard_version", "lot_size", "kind"}

    lot = {"msme_id": str(MSME_ID), "lot_id": str(new_id()), "pool_id": str(POOL_ID), "lot_size": 100}
    unknown = await client.post(
        "/v1/inspections", json={**lot, "standard_id": str(new_id()), "standard_version": 1}, headers=INSPECTOR
    )
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "standard_id"
    no_version = await client.post(
        "/v1/inspections", json={**lot, "standard_id": standard["id"], "standard_version": 2}, headers=INSPECTOR
    )
    assert no_version.status_code == 422 and no_version.json()["errors"][0]["field"] == "standard_version"
    draft = (await client.post("/v1/standards", json=basket_standard(), headers=INSPECTOR)).json()
    drafted = await client.post(
        "/v1/inspections", json={**lot, "standard_id": draft["id"], "standard_version": 1}, headers=INSPECTOR
    )
    assert drafted.status_code == 422 and "draft" in drafted.json()["errors"][0]["message"]


async def test_results_name_every_bad_field(client: Client) -> None:
    standard = await published_standard(client)
    opened = await open_lot(client, standard, MSME_ID)
    url = f"/v1/inspections/{opened['id']}/results"
    malformed = {"defects": {"critical": -1, "fatal": 2}, "measurements": [{"attribute": "", "values": []}]}
    response = await client.post(url, json=malformed, headers=INSPECTOR)
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert "measurements[0].attribute" in fields and any(f.startswith("defects") for f in fields)
    inconsistent = {
        "defects": {"critical": 0, "major": 0},
        "measurements": [{"attribute": "weight", "values": [1]}, {"attribute": "diameter", "values": [30] * 51}],
    }
    response = await client.post(url, json=inconsistent, headers=INSPECTOR)
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {
        "measurements[0].attribute",
        "measurements[1].values",
    }
    missing = await client.post(url, json={"defects": {"critical": 0, "major": 0}}, headers=INSPECTOR)
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "defects.minor"
    assert (await client.post(url, json={"defects": {}}, headers={**INSPECTOR, "If-Match": "7"})).status_code == 412


async def test_an_idempotency_key_opens_one_inspection(client: Client) -> None:
    standard = await published_standard(client)
    body = {
        "msme_id": str(MSME_ID),
        "standard_id": standard["id"],
        "standard_version": 1,
        "lot_id": str(new_id()),
        "pool_id": str(POOL_ID),
        "lot_size": 800,
    }
    headers = {**INSPECTOR, "Idempotency-Key": "lot-17-first-look"}
    first = await client.post("/v1/inspections", json=body, headers=headers)
    again = await client.post("/v1/inspections", json=body, headers=headers)
    assert first.status_code == again.status_code == 201 and first.json() == again.json()


async def test_inspections_are_listed_for_their_organisation_in_pages_and_by_filter(client: Client) -> None:
    standard = await published_standard(client)
    other_msme = new_id()
    opened = [await open_lot(client, standard, MSME_ID) for _ in range(3)]
    opened.append(await open_lot(client, standard, other_msme))
    judged = await record(client, opened[0])
    wait = f"wait_for_position={judged['position']}"
    first = (await client.get(f"/v1/inspections?limit=3&{wait}", headers=INSPECTOR)).json()
    assert [i["id"] for i in first["items"]] == [i["id"] for i in opened[:3]]
    rest = (await client.get(f"/v1/inspections?limit=3&cursor={first['next_cursor']}", headers=INSPECTOR)).json()
    assert [i["id"] for i in rest["items"]] == [opened[3]["id"]] and rest["next_cursor"] is None
    by_msme = (await client.get(f"/v1/inspections?msme_id={other_msme}", headers=INSPECTOR)).json()["items"]
    assert [i["id"] for i in by_msme] == [opened[3]["id"]]
    accepted = (await client.get("/v1/inspections?status=accepted", headers=INSPECTOR)).json()["items"]
    assert [i["id"] for i in accepted] == [opened[0]["id"]]
    assert (await client.get("/v1/inspections", headers=OTHER_INSPECTOR)).json()["items"] == []
    assert len((await client.get("/v1/inspections", headers=ADMIN)).json()["items"]) == 4
    assert (await client.get("/v1/inspections", headers=BUYER)).status_code == 403
    bad = await client.get("/v1/inspections?status=lost&msme_id=x", headers=INSPECTOR)
    assert bad.status_code == 422


async def test_a_lot_is_judged_once_and_a_rejected_lot_returns_flagged_as_resubmitted(client: Client) -> None:
    standard = await published_standard(client)
    first = await open_lot(client, standard, MSME_ID)
    again = {
        "msme_id": str(MSME_ID),
        "standard_id": standard["id"],
        "standard_version": 1,
        "lot_id": first["lot_id"],
        "pool_id": str(POOL_ID),
        "lot_size": 500,
    }
    busy = await client.post("/v1/inspections", json=again, headers=INSPECTOR)
    assert busy.status_code == 409 and busy.json()["type"] == "/problems/lot-under-inspection"
    await record(client, first, major=2)
    unflagged = await client.post("/v1/inspections", json=again, headers=INSPECTOR)
    assert unflagged.status_code == 422 and unflagged.json()["errors"][0]["field"] == "resubmitted"
    resubmitted = await open_lot(client, standard, MSME_ID, lot_id=first["lot_id"], resubmitted=True)
    assert resubmitted["resubmitted"] is True
    await record(client, resubmitted)
    done = await client.post("/v1/inspections", json={**again, "resubmitted": True}, headers=INSPECTOR)
    assert done.status_code == 409 and done.json()["type"] == "/problems/lot-already-accepted"


async def test_a_lot_opened_by_many_at_once_gets_one_inspection_and_the_others_a_409(
    app: tuple[Client, Runtime],
) -> None:
    """Opening inspections of one lot queue on the lot's lock: the first opens, the others see it under inspection."""
    client, runtime = app
    standard = await published_standard(client)
    ctx = runtime.contexts["quality"]
    inspector = Principal(sub="ana", role=Role.INSPECTOR, org="sucofindo-qc")
    lot = {
        "msme_id": MSME_ID,
        "standard_id": UUID(standard["id"]),
        "standard_version": 1,
        "lot_id": new_id(),
        "pool_id": POOL_ID,
        "lot_size": 500,
        "resubmitted": False,
    }

    async def open_at_once() -> list[object]:
        return await asyncio.gather(
            *(use_cases.open_lot_inspection(ctx, inspector, Metadata(), None, **lot) for _ in range(8)),
            return_exceptions=True,
        )

    # The test client serves the app one request at a time on its own event loop: run the use case there.
    outcomes = client.blocking_portal.call(open_at_once)
    opened = [o for o in outcomes if not isinstance(o, BaseException)]
    refused = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(opened) == 1, outcomes
    assert all(isinstance(e, Conflict) and e.problem == "lot-under-inspection" for e in refused), refused


async def test_another_organisation_may_judge_a_lot_again_without_counting_it_twice(client: Client) -> None:
    """A buyer's appointed lab inspects a lot the aggregator's QC accepted: its verdict stands on its own, and
    the MSME's record still counts the lot once."""
    standard = await published_standard(client)
    first = await open_lot(client, standard, MSME_ID)
    judged = await record(client, first)
    lab = {key: first[key] for key in ("msme_id", "standard_id", "standard_version", "lot_id", "pool_id", "lot_size")}
    opened = await client.post("/v1/inspections", json=lab, headers=OTHER_INSPECTOR)
    assert opened.status_code == 201, opened.text
    assert opened.json()["second_opinion"] is True and first["second_opinion"] is False
    url = f"/v1/inspections/{opened.json()['id']}/results"
    rejected = await client.post(
        url, json={"defects": {"critical": 0, "major": 40, "minor": 0}}, headers=OTHER_INSPECTOR
    )
    assert rejected.status_code == 201 and rejected.json()["status"] == "rejected"
    again = await client.post("/v1/inspections", json=lab, headers=OTHER_INSPECTOR)
    assert again.status_code == 422 and again.json()["errors"][0]["field"] == "resubmitted"  # once per organisation
    wait = f"wait_for_position={rejected.json()['position']}"
    quality = (await client.get(f"/v1/msmes/{MSME_ID}/quality?{wait}", headers=ADMIN)).json()
    [entry] = quality["standards"]
    assert (entry["lots_accepted"], entry["lots_rejected"]) == (1, 0), entry
    assert judged["status"] == "accepted"
