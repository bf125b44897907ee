"""A coffee pool from catalog to shipment, then the EU deforestation regulation statement of what it shipped:
the producers' plots as one GeoJSON FeatureCollection that a GeoJSON validator and shapely accept."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import geojson
import pytest
from pypdf import PdfReader
from shapely.geometry import shape

from shared.auth import Role
from tests.integration.flow.marketplace import AGGREGATOR, BUYER, INSPECTOR, Marketplace, Producer, eventually
from tests.support.app import token

pytestmark = pytest.mark.integration

ARABICA = "0901.11"
COFFEE_STANDARD: dict[str, Any] = {
    "name": "Gayo Arabica green coffee, grade 1",
    "attributes": [{"name": "moisture", "unit": "%", "nominal": "11", "lower_tolerance": "1", "upper_tolerance": "1"}],
    "checks": [{"name": "no mould", "defect_class": "critical"}],
    "defect_classes": [
        {"defect_class": "critical", "aql": "0.065"},
        {"defect_class": "major", "aql": "1.0"},
        {"defect_class": "minor", "aql": "4.0"},
    ],
    "inspection_level": "II",
    "publish": True,
}
GAYO_POLYGON = [[[96.85, 4.62], [96.86, 4.62], [96.86, 4.63], [96.85, 4.63], [96.85, 4.62]]]
EVIDENCE = {"document_reference": "Citra Sentinel-2 KLHK 2024/118", "as_of": "2024-03-01"}


async def coffee_producer(
    market: Marketplace,
    org: str,
    standard_id: str,
    name: str,
    plots: list[dict[str, Any]],
    *,
    province: str = "Aceh",
    city: str = "Aceh Tengah",
    hs_code: str = ARABICA,
) -> tuple[Producer, list[dict[str, Any]]]:
    headers = token(Role.MSME, org=org, sub=f"owner-{org}")
    nib = f"{9130000000000 + len(market.nibs) + 1}"
    market.nibs.append(nib)
    msme = await market.post(
        "/v1/msmes",
        {"name": name, "nib": nib, "province": province, "city": city,
         "contact": {"name": "Ibu Rahmah", "phone": "+62 643 555 0100"}, "size_class": "micro"},
        headers,
    )  # fmt: skip
    registered = [await market.post(f"/v1/msmes/{msme['id']}/plots", plot, headers) for plot in plots]
    product = await market.post(
        f"/v1/msmes/{msme['id']}/products",
        {"sku": "GAYO-G1", "name": "Gayo Arabica green beans, 60 kg bag", "hs_code": hs_code, "category": "coffee",
         "unit": "BG", "moq": 10, "lead_time_days": 14, "net_mass_kg": "60",
         "price_tiers": [{"min_quantity": 10, "unit_price": {"amount": "390.00", "currency": "USD"}}],
         "standards": [{"standard_id": standard_id, "version": 1}]},
        headers,
    )  # fmt: skip
    await market.call(
        "PUT", f"/v1/products/{product['id']}/capacity", headers, json={"months": {"2027-02": 150, "2027-03": 150}}
    )
    return Producer(org, str(msme["id"]), str(product["id"]), headers), registered


def plot(name: str, geometry: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"name": name, "geometry": geometry, "country": "ID", "region": "Aceh", "commodity": "coffee", **extra}


async def coffee_order(
    market: Marketplace, standard_id: str, bags: int, *, hs_code: str = "090111", incoterm: str = "FOB"
) -> dict[str, Any]:
    line = {"hs_code": hs_code, "category": "coffee", "description": "Gayo Arabica grade 1, green",
            "standard_id": standard_id, "standard_version": 1, "quantity": bags, "unit": "BG",
            "target_unit_price": {"amount": "420.00", "currency": "USD"}}  # fmt: skip
    body = {"lines": [line], "incoterm": incoterm, "destination_country": "DE", "destination_port": "DEHAM",
            "loading_port": "IDBLW", "required_by": "2027-04-30"}  # fmt: skip
    order = await market.post("/v1/orders", body, BUYER)
    price = {"amount": "415.00", "currency": "USD"}
    quote = {"lines": [{"line_id": order["lines"][0]["line_id"], "unit_price": price}],
             "lead_time_days": 60, "valid_until": "2027-01-11T09:00:00Z"}  # fmt: skip
    await market.post(f"/v1/orders/{order['id']}/quote", quote, AGGREGATOR, expect=200)
    await market.post(f"/v1/orders/{order['id']}/confirm", None, BUYER, expect=200)
    return order


async def open_pool(market: Marketplace, standard_id: str, hs_code: str, unit: str) -> str:
    body = {"name": f"Pool {hs_code}", "hs_code": hs_code, "standard_id": standard_id, "standard_version": 1,
            "unit": unit, "currency": "USD", "consolidation_point": "IDBLW",
            "inspector_orgs": ["sucofindo-qc"]}  # fmt: skip
    return str((await market.post("/v1/pools", body, AGGREGATOR))["id"])


async def inspect(market: Marketplace, pool_id: str, lot: dict[str, Any], standard_id: str) -> None:
    body = {"msme_id": lot["msme_id"], "standard_id": standard_id, "standard_version": 1, "lot_id": lot["lot_id"],
            "pool_id": pool_id, "lot_size": lot["quantity"]}  # fmt: skip
    opened = await market.post("/v1/inspections", body, INSPECTOR)
    results = {"defects": {"critical": 0, "major": 0, "minor": 0},
               "measurements": [{"attribute": "moisture", "values": ["11.2", "10.8"]}]}  # fmt: skip
    judged = await market.post(f"/v1/inspections/{opened['id']}/results", results, INSPECTOR)
    assert judged["status"] == "accepted", judged


async def test_a_shipped_coffee_pool_yields_a_valid_eudr_feature_collection(market: Marketplace) -> None:
    standard = str((await market.post("/v1/standards", COFFEE_STANDARD, INSPECTOR))["id"])
    gayo, gayo_plots = await coffee_producer(
        market, "koperasi-gayo", standard, "Koperasi Kopi Gayo",
        [plot("Kebun Bener Meriah 1", {"type": "Polygon", "coordinates": GAYO_POLYGON}, evidence=EVIDENCE)],
    )  # fmt: skip
    takengon, takengon_plots = await coffee_producer(
        market, "kopi-takengon", standard, "Kopi Takengon Lestari",
        [plot("Kebun Pegasing", {"type": "Point", "coordinates": [96.8123, 4.5876]}, area_hectares="2.5"),
         plot("Kakao Lhokseumawe", {"type": "Point", "coordinates": [97.15, 5.18]}, area_hectares="1",
              commodity="cocoa", evidence=EVIDENCE)],
    )  # fmt: skip
    for producer in (gayo, takengon):
        await market.qualify(producer, standard)
    await market.register_buyer()
    pool_id = await open_pool(market, standard, "090111", "BG")
    order = await coffee_order(market, standard, 400)
    await market.pool_where(pool_id, lambda p: p["demand"] == 400, "the order line joins the coffee pool")
    not_yet = await market.client.get(f"/v1/pools/{pool_id}/eudr", headers=AGGREGATOR)
    assert not_yet.status_code == 409 and not_yet.json()["type"].endswith("not-shipped")

    market.later()
    proposal = await market.allocate(pool_id, msmes=2)
    shares = {a["msme_id"]: a["quantity"] for a in proposal["allocations"]}
    assert sum(shares.values()) == 400 and set(shares) == {gayo.msme_id, takengon.msme_id}, shares
    lots = []
    for producer, code in ((gayo, "GAYO-001"), (takengon, "TKG-001")):
        await market.accept(producer)
        market.later()
        lots.append(await market.deliver(pool_id, producer, shares[producer.msme_id], code))
    # Each lot names its MSME's coffee plots by default (not the cocoa plot).
    assert [lot["plot_ids"] for lot in lots] == [[gayo_plots[0]["id"]], [takengon_plots[0]["id"]]]
    for lot in lots:
        await inspect(market, pool_id, lot, standard)
    await market.pool_where(pool_id, lambda p: p["status"] == "filled", "the pool is filled")
    await market.ship(pool_id)

    statement = await market.get(f"/v1/pools/{pool_id}/eudr", AGGREGATOR)
    assert statement["covered"] is True and statement["activity"] == "export"
    assert (statement["hs_heading"], statement["commodity"]) == ("0901", "Coffee")
    assert Decimal(statement["net_mass_kg"]) == Decimal(400 * 60)  # 400 bags of 60 kg
    assert statement["supplementary"] is None and statement["countries_of_production"] == ["ID"]
    assert (statement["producers"], statement["plots"]) == (2, 2)
    collection = statement["geolocation"]
    parsed = geojson.loads(geojson.dumps(collection))
    assert parsed.is_valid, parsed.errors()
    for feature in collection["features"]:
        assert shape(feature["geometry"]).is_valid
    by_place = {f["properties"]["ProductionPlace"]: f["properties"] for f in collection["features"]}
    assert by_place["Kebun Bener Meriah 1"]["ProducerName"] == "Koperasi Kopi Gayo"
    assert by_place["Kebun Pegasing"] == {
        "ProducerName": "Kopi Takengon Lestari", "ProducerCountry": "ID", "ProductionPlace": "Kebun Pegasing",
        "Area": 2.5, "PlotId": takengon_plots[0]["id"],
    }  # fmt: skip
    assert 120 < by_place["Kebun Bener Meriah 1"]["Area"] < 125
    assert [w["plot_id"] for w in statement["warnings"]] == [takengon_plots[0]["id"]]  # no evidence for it
    stranger = token(Role.AGGREGATOR, org="other-trading", sub="x")
    assert (await market.client.get(f"/v1/pools/{pool_id}/eudr", headers=stranger)).status_code == 404
    await trade_documents_add_up(market, pool_id, order["id"])


async def trade_documents_add_up(market: Marketplace, pool_id: str, order_id: str) -> None:
    """The invoice total is Σ quantity × quoted price; the packing list adds up to what shipped, lot by lot, as
    the buyer's provenance shows; the PDFs say the same numbers."""
    documents = f"/v1/pools/{pool_id}/documents"
    [invoice] = (await market.get(f"{documents}/commercial-invoice", AGGREGATOR))["invoices"]
    assert invoice["order_id"] == order_id and invoice["buyer"]["name"] == "Rotterdam Home B.V."
    assert (invoice["incoterm"], invoice["incoterm_place"], invoice["currency"]) == ("FOB", "IDBLW", "USD")
    assert Decimal(invoice["total"]) == sum(Decimal(line["unit_price"]) * line["quantity"] for line in invoice["lines"])
    assert Decimal(invoice["total"]) == Decimal("166000.00")  # 400 bags at 415.00
    assert [(line["hs_code"], line["quantity"], line["unit"]) for line in invoice["lines"]] == [("090111", 400, "BG")]
    packing = await market.get(f"{documents}/packing-list", AGGREGATOR)
    assert packing["total_quantity"] == sum(lot["quantity"] for lot in packing["lots"]) == 400
    assert Decimal(packing["total_net_mass_kg"]) == Decimal(400 * 60)
    provenance = await market.get(f"/v1/orders/{order_id}/provenance", BUYER)
    traced = {lot["lot_code"]: lot["quantity"] for line in provenance["lines"] for lot in line["lots"]}
    assert {lot["lot_code"]: lot["quantity"] for lot in packing["lots"]} == traced

    pdf = await market.client.get(f"{documents}/commercial-invoice?format=pdf", headers=AGGREGATOR)
    assert pdf.status_code == 200 and pdf.headers["content-type"].startswith("application/pdf")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "166,000.00" in text and "415.00" in text and "FOB IDBLW" in text and "Rotterdam Home B.V." in text
    listed = await market.client.get(f"{documents}/packing-list", headers=AGGREGATOR | {"Accept": "application/pdf"})
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(listed.content)).pages)
    assert "GAYO-001" in text and "TKG-001" in text and "24,000.00" in text
    [origin] = (await market.get(f"{documents}/certificate-of-origin", AGGREGATOR))["requests"]
    assert (origin["form"], origin["origin_criterion"], origin["hs_codes"]) == ("general", "WO", ["090111"])
    assert origin["consignee"]["name"] == "Rotterdam Home B.V." and origin["quantity"] == 400
    origin_pdf = await market.client.get(f"{documents}/certificate-of-origin?format=pdf", headers=AGGREGATOR)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(origin_pdf.content)).pages)
    assert "090111" in text and "WO" in text and "Rotterdam Home B.V." in text
    unknown = await market.client.get(f"{documents}/bill-of-lading", headers=AGGREGATOR)
    assert unknown.status_code == 422 and unknown.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in unknown.json()["errors"]] == ["kind"]
    assert "commercial-invoice, packing-list, certificate-of-origin, peb" in unknown.json()["errors"][0]["message"]


async def test_seagrass_baskets_are_not_covered(market: Marketplace) -> None:
    standard = str((await market.post("/v1/standards", COFFEE_STANDARD, INSPECTOR))["id"])
    pool_id = await open_pool(market, standard, "460219", "PCE")

    async def answered() -> dict[str, Any] | None:
        response = await market.client.get(f"/v1/pools/{pool_id}/eudr", headers=AGGREGATOR)
        return response.json() if response.status_code == 200 else None

    answer = await eventually(answered, what="the pool answers")
    assert answer["covered"] is False and "4602" in answer["reason"]
