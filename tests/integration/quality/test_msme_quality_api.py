"""An MSME's quality over HTTP: switching on every verdict, discontinuation and resumption, who may read it."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

import msgspec
import pytest

from events.catalog import MsmeUpdated
from events.quality import CODEC, MsmeQualityAssessed, SeverityChanged
from shared import bus
from shared.kernel.ids import new_id
from shared.runtime import Runtime
from tests.integration.quality.fixtures import (
    ADMIN,
    AGGREGATOR,
    BUYER,
    INSPECTOR,
    MSME_USER,
    OTHER_MSME_USER,
    Client,
    eventually,
    inspect_lot,
    msme_registered,
    open_lot,
    publish_catalog_event,
    published_standard,
)

pytestmark = pytest.mark.integration


async def quality(client: Client, msme_id: UUID, position: int, headers: dict[str, str] = BUYER) -> dict[str, Any]:
    response = await client.get(f"/v1/msmes/{msme_id}/quality?wait_for_position={position}", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_an_msme_with_no_history_has_no_records_and_the_explicit_prior(client: Client) -> None:
    response = await client.get(f"/v1/msmes/{new_id()}/quality", headers=AGGREGATOR)
    assert response.status_code == 200
    body = response.json()
    assert body["standards"] == [] and body["score_without_history"] == 0.5
    assert "Beta(1, 1)" in body["score_method"]


async def test_lots_move_an_msme_from_probation_to_qualified_then_to_tightened_inspection(client: Client) -> None:
    standard = await published_standard(client)  # qualifies after 2 accepted lots
    msme_id = new_id()
    await inspect_lot(client, standard, msme_id)
    judged = await inspect_lot(client, standard, msme_id, major=0)
    (record,) = (await quality(client, msme_id, judged["position"]))["standards"]
    assert record["state"] == {
        "qualified": True,
        "qualified_by": "accepted_lots",
        "severity": "normal",
        "discontinued": False,
    }
    assert (record["lots_accepted"], record["lots_rejected"]) == (2, 0)
    assert record["process_average"] == 0.0 and record["score"] > 0.5

    await inspect_lot(client, standard, msme_id, major=2)
    judged = await inspect_lot(client, standard, msme_id, major=3)
    (record,) = (await quality(client, msme_id, judged["position"]))["standards"]
    assert record["state"]["severity"] == "tightened" and record["state"]["qualified"] is True
    assert (record["lots_accepted"], record["lots_rejected"]) == (2, 2)
    major = next(c for c in record["process_average_by_class"] if c["defect_class"] == "major")
    assert (major["sampled_units"], major["defects"], major["defects_per_hundred_units"]) == (200, 5, 2.5)
    assert record["process_average"] == pytest.approx(2.5)

    next_lot = await open_lot(client, standard, msme_id)
    assert next_lot["severity"] == "tightened"
    by_class = {p["defect_class"]: p["sample_size"] for p in next_lot["plans"]}
    assert by_class == {"critical": 315, "major": 80, "minor": 50}


async def test_verdicts_recorded_at_the_same_time_all_count_in_the_msmes_record(client: Client) -> None:
    standard = await published_standard(client)
    msme_id = new_id()
    lots = [await open_lot(client, standard, msme_id) for _ in range(6)]
    results = {"defects": {"critical": 0, "major": 0, "minor": 1}}
    responses = await asyncio.gather(
        *(client.post(f"/v1/inspections/{lot['id']}/results", json=results, headers=INSPECTOR) for lot in lots)
    )
    assert [r.status_code for r in responses] == [201] * 6, [r.text for r in responses]
    position = max(r.json()["position"] for r in responses)
    (record,) = (await quality(client, msme_id, position))["standards"]
    assert (record["lots_accepted"], record["lots_rejected"]) == (6, 0)
    minor = next(c for c in record["process_average_by_class"] if c["defect_class"] == "minor")
    assert (minor["sampled_units"], minor["defects"]) == (300, 6)
    assert record["switching"]["switching_score"] == 18 and record["state"]["qualified"] is True


async def test_discontinued_inspection_refuses_lots_until_an_inspector_resumes_it_at_tightened(client: Client) -> None:
    standard = await published_standard(client)
    msme_id = new_id()
    resume_url = f"/v1/msmes/{msme_id}/quality/{standard['id']}/resume"
    note = {"corrective_action": "Kiln drying added; moisture now checked per batch"}
    assert (await client.post(resume_url, json=note, headers=INSPECTOR)).status_code == 404
    for _ in range(2):
        await inspect_lot(client, standard, msme_id, major=2)  # → tightened
    not_yet = await client.post(resume_url, json=note, headers=INSPECTOR)
    assert not_yet.status_code == 409 and not_yet.json()["type"] == "/problems/inspection-not-discontinued"
    for _ in range(5):
        judged = await inspect_lot(client, standard, msme_id, major=2)
    (record,) = (await quality(client, msme_id, judged["position"]))["standards"]
    assert record["state"]["discontinued"] is True and record["switching"]["rejected_on_tightened"] == 5

    lot = {
        "msme_id": str(msme_id),
        "standard_id": standard["id"],
        "standard_version": 1,
        "lot_id": str(new_id()),
        "pool_id": str(new_id()),
        "lot_size": 500,
    }
    refused = await client.post("/v1/inspections", json=lot, headers=INSPECTOR)
    assert refused.status_code == 409 and refused.json()["type"] == "/problems/inspection-discontinued"

    assert (await client.post(resume_url, json=note, headers=MSME_USER)).status_code == 403
    empty = await client.post(resume_url, json={"corrective_action": ""}, headers=INSPECTOR)
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "corrective_action"
    resumed = await client.post(resume_url, json=note, headers=INSPECTOR)
    assert resumed.status_code == 200, resumed.text
    state = resumed.json()["state"]
    assert state == {"qualified": False, "qualified_by": None, "severity": "tightened", "discontinued": False}
    assert resumed.json()["position"] > 0
    reopened = await client.post("/v1/inspections", json={**lot, "lot_id": str(new_id())}, headers=INSPECTOR)
    assert reopened.status_code == 201 and reopened.json()["severity"] == "tightened"


async def test_an_msme_reads_only_its_own_quality_as_catalog_says_who_owns_it(
    app: tuple[Client, Runtime],
) -> None:
    client, runtime = app
    standard = await published_standard(client)
    msme_id = new_id()
    judged = await inspect_lot(client, standard, msme_id)
    url = f"/v1/msmes/{msme_id}/quality?wait_for_position={judged['position']}"
    assert (await client.get(url, headers=MSME_USER)).status_code == 404, "catalog has not said who owns it yet"

    await publish_catalog_event(runtime.settings, msme_registered(msme_id, "cirebon-rattan"), version=1)

    async def owner_sees_it() -> bool:
        return (await client.get(url, headers=MSME_USER)).status_code == 200

    await eventually(owner_sees_it)
    mine = (await client.get(url, headers=MSME_USER)).json()
    assert mine["standards"][0]["lots_accepted"] == 1
    assert (await client.get(url, headers=OTHER_MSME_USER)).status_code == 404
    for caller in (BUYER, AGGREGATOR, INSPECTOR, ADMIN):
        assert (await client.get(url, headers=caller)).status_code == 200
    inspection = f"/v1/inspections/{judged['id']}"
    assert (await client.get(inspection, headers=MSME_USER)).status_code == 200, "an MSME sees its own verdicts"
    listed = (await client.get("/v1/inspections", headers=MSME_USER)).json()["items"]
    assert [i["id"] for i in listed] == [judged["id"]]

    registered = msme_registered(msme_id, "cirebon-rattan")
    moved = MsmeUpdated(
        **{f: getattr(registered, f) for f in ("msme_id", "name", "nib", "province", "city", "contact", "size_class")},
        org="jepara-teak",
        status="active",
        changed=["org"],
        at=registered.at,
    )
    await publish_catalog_event(runtime.settings, moved, version=2)

    async def new_owner_sees_it() -> bool:
        return (await client.get(url, headers=OTHER_MSME_USER)).status_code == 200

    await eventually(new_owner_sees_it)
    assert (await client.get(url, headers=MSME_USER)).status_code == 404


async def test_every_verdict_publishes_a_full_assessment_that_pooling_can_consume(app: tuple[Client, Runtime]) -> None:
    client, runtime = app
    standard = await published_standard(client)
    msme_id = new_id()
    await inspect_lot(client, standard, msme_id, major=2)
    await inspect_lot(client, standard, msme_id, major=2)
    prefix, nats_url = runtime.settings.nats_prefix, runtime.settings.nats_url
    assert nats_url is not None
    connection = await bus.connect(nats_url, name="pooling-in-a-test")
    subscription = await connection.jetstream().pull_subscribe(
        bus.subject(prefix, "quality", ">"), durable=None, stream=bus.stream_name(prefix, "quality")
    )
    seen: list[Any] = []

    async def published() -> bool:
        try:
            messages = await subscription.fetch(50, timeout=0.5)
        except TimeoutError:
            return False
        for message in messages:
            headers = message.headers or {}
            seen.append(CODEC.decode(headers[bus.EVENT_TYPE], int(headers[bus.SCHEMA_VERSION]), message.data))
            await message.ack()
        return sum(isinstance(e, MsmeQualityAssessed) for e in seen) == 2

    try:
        await eventually(published)
    finally:
        await connection.close()
    changed = [e for e in seen if isinstance(e, SeverityChanged)]
    assert [(c.previous, c.severity) for c in changed] == [("normal", "tightened")]
    last = [e for e in seen if isinstance(e, MsmeQualityAssessed)][-1]
    assert last.msme_id == msme_id and str(last.standard_id) == standard["id"]
    assert (last.severity, last.qualified, last.discontinued, last.lots_rejected) == ("tightened", False, False, 2)
    assert msgspec.json.decode(msgspec.json.encode(last), type=MsmeQualityAssessed) == last


async def test_sampling_plans_follow_iso_2859_1_and_bad_parameters_are_named(client: Client) -> None:
    response = await client.get("/v1/sampling-plans?lot_size=500&aql=1&level=II&severity=normal", headers=BUYER)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "lot_size": 500,
        "aql": "1.0",
        "level": "II",
        "severity": "normal",
        "code_letter": "H",
        "plan_letter": "H",
        "sample_size": 50,
        "accept": 1,
        "reject": 2,
        "inspect_whole_lot": False,
    }
    tightened = (await client.get("/v1/sampling-plans?lot_size=500&aql=1.0&severity=tightened", headers=BUYER)).json()
    assert (tightened["plan_letter"], tightened["sample_size"], tightened["accept"]) == ("J", 80, 1)
    special = (await client.get("/v1/sampling-plans?lot_size=10000&aql=2.5&level=S-2", headers=BUYER)).json()
    assert special["code_letter"] == "D"
    whole = (await client.get("/v1/sampling-plans?lot_size=6&aql=0.65", headers=BUYER)).json()
    assert whole["inspect_whole_lot"] is True and whole["sample_size"] == 6

    bad = await client.get("/v1/sampling-plans?lot_size=1&aql=0.3&level=IV&severity=harsh", headers=BUYER)
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
    assert {e["field"] for e in bad.json()["errors"]} == {"lot_size", "aql", "level", "severity"}
    for query, fields in (
        ("aql=1.0", {"lot_size"}),
        ("lot_size=abc&aql=0.3", {"lot_size", "aql"}),
        ("lot_size=50&level=", {"aql", "level"}),
        ("lot_size=2.5&aql=1.0&severity=NORMAL", {"lot_size", "severity"}),
        ("lot_size=%C2%B9&aql=1.0", {"lot_size"}),  # "¹" is a digit to str.isdigit, not to int()
        ("lot_size=%D9%A3%D9%A3&aql=1.0", {"lot_size"}),  # Arabic-Indic digits are not a lot size either
    ):
        response = await client.get(f"/v1/sampling-plans?{query}", headers=BUYER)
        assert response.status_code == 422, response.text
        assert {e["field"] for e in response.json()["errors"]} == fields
    assert (await client.get("/v1/sampling-plans?lot_size=50&aql=1.0")).status_code == 401
