"""An order from confirmation to delivery across catalog, orders, pooling and quality, over HTTP only."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

from shared.auth import Role
from tests.integration.flow.marketplace import (
    AGGREGATOR,
    BUYER,
    OTHER_BUYER,
    Marketplace,
    Producer,
    eventually,
)
from tests.support.app import token

pytestmark = pytest.mark.integration

OUTSIDE_LAB = token(Role.INSPECTOR, org="other-lab", sub="odin")

JEPARA_PLOT = {
    "name": "Hutan rakyat Bangsri, plot 7",
    "geometry": {"type": "Point", "coordinates": [110.7712, -6.5093]},
    "area_hectares": "2.5",
}
REMBANG_PLOT = {
    "name": "Petak 41 KPH Kebonharjo",
    "geometry": {
        "type": "Polygon",
        "coordinates": [[[111.42, -6.80], [111.43, -6.80], [111.43, -6.81], [111.42, -6.81], [111.42, -6.80]]],
    },
    "area_hectares": "118.4",
}
SVLK = {
    "kind": "svlk",
    "number": "SVLK-JPR-0042",
    "issuer": "PT Mutu Agung Lestari",
    "valid_from": "2026-01-01",
    "valid_until": "2028-12-31",
}
EXPIRED_ISO = {
    "kind": "iso_9001",
    "number": "QMS-2023-118",
    "issuer": "Sucofindo ICS",
    "valid_from": "2023-01-01",
    "valid_until": "2026-06-30",
}


def progress(order: dict[str, Any]) -> list[dict[str, int]]:
    return [line["progress"] for line in order["lines"]]


async def test_a_confirmed_order_is_pooled_made_inspected_shipped_and_delivered(market: Marketplace) -> None:
    standard = await market.publish_standard()
    jepara = await market.producer(
        "jepara-teak", standard, name="Mebel Jati Jepara", price="38.00",
        capacity={"2027-02": 300, "2027-03": 300}, plots=[JEPARA_PLOT], certifications=[SVLK, EXPIRED_ISO],
    )  # fmt: skip
    rembang = await market.producer(
        "rembang-teak", standard, name="Jati Rembang Lestari", city="Rembang", price="40.00",
        capacity={"2027-02": 400, "2027-03": 400}, plots=[REMBANG_PLOT],
    )  # fmt: skip
    await market.qualify(jepara, standard)
    await market.qualify(rembang, standard)
    await market.register_buyer()
    pool_id = await market.open_pool(standard)

    order = await market.confirmed_order(standard, [700, 200])
    order_id = order["id"]
    assert order["state"] == "confirmed"
    pool = await market.pool_where(pool_id, lambda p: p["demand"] == 900, "both lines join the pool")
    assert {line["order_id"] for line in pool["lines"]} == {order_id}

    market.later()
    proposal = await market.allocate(pool_id, msmes=2)
    shares = {a["msme_id"]: a["quantity"] for a in proposal["allocations"]}
    assert shares == {jepara.msme_id: 600, rembang.msme_id: 300}
    asked = await market.order_where(
        order_id, lambda o: sum(p["allocated"] for p in progress(o)) == 900, "the requests show as allocated"
    )
    assert [p["accepted"] for p in progress(asked)] == [0, 0]

    market.later()
    await market.accept(jepara)
    half = await market.order_where(
        order_id, lambda o: sum(p["accepted"] for p in progress(o)) == 600, "Jepara's acceptance shows"
    )
    assert half["state"] == "confirmed"
    assert sum(p["allocated"] for p in progress(half)) == 900
    market.later()
    await market.accept(rembang)
    made = await market.order_where(order_id, lambda o: o["state"] == "in_production", "the order is in production")
    assert [(p["allocated"], p["accepted"]) for p in progress(made)] == [(700, 700), (200, 200)]
    assert made["milestones"]["in_production"]

    async def committed() -> bool:
        return await market.committed(jepara, "2027-02") == 300 and await market.committed(rembang, "2027-02") == 300

    await eventually(committed, what="catalog shows the capacity pooling committed")
    month = {m["month"]: m for m in (await market.product(jepara))["capacity"]}["2027-02"]
    assert (month["declared"], month["committed"], month["available"]) == (300, 300, 0)

    market.later()
    jepara_lot = await market.deliver(pool_id, jepara, 600, "JPR-2027-001")
    rembang_lot = await market.deliver(pool_id, rembang, 300, "RBG-2027-001")
    await market.order_where(
        order_id, lambda o: [p["delivered"] for p in progress(o)] == [700, 200], "the lots show as delivered"
    )
    # A lab the pool does not name rejects the Jepara lot first: its verdict is kept but the pool ignores it.
    outsider = await market.inspect(pool_id, jepara_lot, standard, major=40, inspector=OUTSIDE_LAB)
    assert outsider["status"] == "rejected", outsider
    for lot in (jepara_lot, rembang_lot):
        market.later()
        judged = await market.inspect(pool_id, lot, standard)
        assert judged["status"] == "accepted", judged
    inspected = await market.order_where(order_id, lambda o: o["state"] == "inspected", "the order is inspected")
    assert [p["passed"] for p in progress(inspected)] == [700, 200]
    await market.pool_where(pool_id, lambda p: p["status"] == "filled", "the pool is filled")

    market.later()
    consignment = await market.ship(pool_id)
    shipped = await market.order_where(order_id, lambda o: o["state"] == "shipped", "the order ships")
    assert shipped["consignment_id"] == consignment["id"]
    assert [p["shipped"] for p in progress(shipped)] == [700, 200]
    market.later()
    delivered = await market.post(f"/v1/orders/{order_id}/deliver", None, BUYER, expect=200)
    assert delivered["state"] == "delivered"

    position = delivered["position"]
    await provenance_names_every_lot_maker_verdict_and_plot(
        market, order_id, position, consignment["id"], jepara, rembang
    )
    await history_tells_what_other_services_did(market, order_id)
    await provenance_is_documented(market)


async def provenance_names_every_lot_maker_verdict_and_plot(
    market: Marketplace, order_id: str, position: int, consignment_id: str, jepara: Producer, rembang: Producer
) -> None:
    provenance = await market.get(f"/v1/orders/{order_id}/provenance?wait_for_position={position}", BUYER)
    assert provenance["order_id"] == order_id and provenance["state"] == "delivered"
    big, small = provenance["lines"]
    assert (big["quantity"], big["shipped"], small["quantity"], small["shipped"]) == (700, 700, 200, 200)
    assert [c["consignment_id"] for c in big["consignments"]] == [consignment_id]
    assert sum(lot["quantity"] for lot in big["lots"]) == 700 and sum(lot["quantity"] for lot in small["lots"]) == 200
    lots = {lot["lot_code"]: lot for line in provenance["lines"] for lot in line["lots"]}
    jepara_lot, rembang_lot = lots["JPR-2027-001"], lots["RBG-2027-001"]
    assert jepara_lot["msme"]["name"] == "Mebel Jati Jepara" and jepara_lot["msme"]["city"] == "Jepara"
    assert [c["number"] for c in jepara_lot["msme"]["certifications"]] == ["SVLK-JPR-0042"]  # the ISO one expired
    assert jepara_lot["product"]["eudr_commodity"] == "wood"
    assert jepara_lot["product"]["origin_plots"][0]["geometry"] == JEPARA_PLOT["geometry"]
    assert rembang_lot["msme"]["msme_id"] == rembang.msme_id and rembang_lot["msme"]["certifications"] == []
    assert rembang_lot["product"]["origin_plots"][0]["name"] == "Petak 41 KPH Kebonharjo"
    ignored, inspection = jepara_lot["inspections"]
    assert (ignored["inspector_org"], ignored["verdict"], ignored["counted"]) == ("other-lab", "rejected", False)
    assert inspection["verdict"] == "accepted" and inspection["inspector_org"] == "sucofindo-qc"
    assert inspection["counted"] is True  # the verdict the pool acted on
    major = next(plan for plan in inspection["plans"] if plan["defect_class"] == "major")
    assert (major["code_letter"], major["sample_size"], major["accept"], major["reject"]) == ("J", 80, 2, 3)
    assert jepara_lot["consignment_id"] == consignment_id and jepara_lot["status"] == "passed"

    response = await market.client.get(f"/v1/orders/{order_id}/provenance.csv", headers=BUYER)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    by_lot = {(row["line_id"], row["lot_code"]): row for row in rows}
    assert sum(int(row["lot_quantity_for_line"]) for row in rows) == 900
    row = by_lot[(big["line_id"], "JPR-2027-001")]
    assert row["msme_name"] == "Mebel Jati Jepara" and row["msme_nib"] and row["inspection_verdict"] == "accepted"
    assert row["consignment_id"] == consignment_id and row["eudr_commodity"] == "wood"
    assert (
        "SVLK-JPR-0042" in row["certifications_valid_at_delivery"]
        and "QMS" not in row["certifications_valid_at_delivery"]
    )
    assert "major AQL 1.0: code J, n=80, Ac 2 Re 3" in row["sampling_plans"]
    geojson = json.loads(row["origin_plots_geojson"])
    assert geojson["features"][0]["geometry"]["coordinates"] == [110.7712, -6.5093]
    assert row["origin_plots_hectares"] == "2.5"
    negotiated = await market.client.get(f"/v1/orders/{order_id}/provenance", headers={**BUYER, "Accept": "text/csv"})
    assert negotiated.status_code == 200 and negotiated.text == response.text
    assert (await market.client.get(f"/v1/orders/{order_id}/provenance", headers=OTHER_BUYER)).status_code == 404
    assert (await market.client.get(f"/v1/orders/{order_id}/provenance.csv", headers=AGGREGATOR)).status_code == 200
    assert jepara.msme_id in {row["msme_id"] for row in rows}


async def history_tells_what_other_services_did(market: Marketplace, order_id: str) -> None:
    items = await market.history(order_id)
    events = [(item["service"], item["event"]) for item in items]
    assert events[:3] == [("orders", "OrderRequested"), ("orders", "OrderQuoted"), ("orders", "OrderConfirmed")]
    assert events.count(("pooling", "DemandAdded")) == 2
    assert (
        events.count(("pooling", "AllocationRequested")) == 2 and events.count(("pooling", "AllocationAccepted")) == 2
    )
    assert events.count(("pooling", "LotReceived")) == 2 and events.count(("quality", "LotAccepted")) == 2
    assert ("pooling", "ConsignmentShipped") in events and events[-1] == ("orders", "OrderDelivered")
    order_of = {event: n for n, event in enumerate(events)}
    assert order_of[("orders", "OrderInProduction")] > order_of[("pooling", "AllocationAccepted")]
    assert order_of[("orders", "OrderInspected")] > order_of[("quality", "LotAccepted")]
    assert [item["at"] for item in items] == sorted(item["at"] for item in items)
    verdict = next(item for item in items if item["event"] == "LotAccepted")
    assert "accepted at normal inspection by sucofindo-qc" in verdict["summary"] and verdict["version"] is None
    saga = next(item for item in items if item["event"] == "OrderInProduction")
    assert saga["actor"] == "orders:pooling-saga"


async def provenance_is_documented(market: Marketplace) -> None:
    paths = (await market.client.get("/schema/openapi.json")).json()["paths"]
    as_json = paths["/v1/orders/{order_id}/provenance"]["get"]["responses"]
    as_csv = paths["/v1/orders/{order_id}/provenance.csv"]["get"]["responses"]
    assert {"200", "401", "403", "404"} <= set(as_json) and {"200", "404"} <= set(as_csv)
    assert "text/csv" in as_csv["200"]["content"]
    assert as_json["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/OrderProvenance"}
