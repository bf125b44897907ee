"""The export declaration (PEB) of a shipped coffee pool, from catalog to shipment: the exporter as its profile
names it, goods lines by province of origin whose numbers add up to the invoice and the buyer's provenance, a
CIF price less the freight and insurance stated on shipping. Trade documents show the exporter's name too."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pytest
from pypdf import PdfReader

from shared.auth import Role
from tests.integration.flow.marketplace import AGGREGATOR, BUYER, INSPECTOR, Marketplace
from tests.integration.flow.test_eudr_statement import (
    COFFEE_STANDARD,
    coffee_order,
    coffee_producer,
    inspect,
    open_pool,
)
from tests.support.app import token

pytestmark = pytest.mark.integration

PROFILE = {"name": "PT Semarang Trading Nusantara", "nib": "8120301234567", "npwp": "01.234.567.8-503.000",
           "address": "Jl. Pemuda 150, Semarang 50132"}  # fmt: skip
PROFILE_URL = "/v1/aggregators/semarang-trading/exporter-profile"


async def test_an_aggregator_keeps_its_own_exporter_profile(market: Marketplace) -> None:
    missing = await market.client.get(PROFILE_URL, headers=AGGREGATOR)
    assert missing.status_code == 404
    bad = await market.client.put(PROFILE_URL, json=PROFILE | {"nib": "12", "npwp": "99-1"}, headers=AGGREGATOR)
    assert bad.status_code == 422 and {e["field"] for e in bad.json()["errors"]} == {"nib", "npwp"}
    stranger = token(Role.AGGREGATOR, org="other-trading", sub="x")
    assert (await market.client.put(PROFILE_URL, json=PROFILE, headers=stranger)).status_code == 403
    assert (await market.client.get(PROFILE_URL, headers=stranger)).status_code == 403
    assert (await market.client.put(PROFILE_URL, json=PROFILE, headers=BUYER)).status_code == 403
    saved = await market.call("PUT", PROFILE_URL, AGGREGATOR, json=PROFILE)
    assert saved["npwp"] == "012345678503000" and saved["version"] == 1
    assert (await market.call("PUT", PROFILE_URL, AGGREGATOR, json=PROFILE))["version"] == 1  # unchanged
    stale = await market.client.put(
        PROFILE_URL, json=PROFILE | {"name": "PT STN"}, headers=AGGREGATOR | {"If-Match": "0"}
    )
    assert stale.status_code == 412
    assert (await market.get(PROFILE_URL, AGGREGATOR))["name"] == PROFILE["name"]


async def shipped_coffee(
    market: Marketplace, incoterm: str, ship: dict[str, Any]
) -> tuple[str, dict[str, Any], dict[str, int]]:
    """400 bags of Arabica (HS 0901.11.10) from Aceh and North Sumatra, ordered to Hamburg, shipped at Belawan:
    the pool, the order and the bags made in each province."""
    standard = str((await market.post("/v1/standards", COFFEE_STANDARD, INSPECTOR))["id"])
    gayo, _ = await coffee_producer(market, "koperasi-gayo", standard, "Koperasi Kopi Gayo", [], hs_code="0901.11.10")
    sidikalang, _ = await coffee_producer(
        market, "kopi-simalungun", standard, "Kopi Simalungun", [], province="Sumatera Utara", city="Simalungun",
        hs_code="0901.11.10",
    )  # fmt: skip
    for producer in (gayo, sidikalang):
        await market.qualify(producer, standard)
    await market.register_buyer()
    pool_id = await open_pool(market, standard, "09011110", "BG")
    order = await coffee_order(market, standard, 400, hs_code="09011110", incoterm=incoterm)
    await market.pool_where(pool_id, lambda p: p["demand"] == 400, "the order line joins the coffee pool")
    market.later()
    proposal = await market.allocate(pool_id, msmes=2)
    shares = {a["msme_id"]: a["quantity"] for a in proposal["allocations"]}
    assert sum(shares.values()) == 400 and len(shares) == 2, shares
    for producer, code in ((gayo, "GAYO-001"), (sidikalang, "SML-001")):
        await market.accept(producer)
        market.later()
        lot = await market.deliver(pool_id, producer, shares[producer.msme_id], code)
        await inspect(market, pool_id, lot, standard)
    await market.pool_where(pool_id, lambda p: p["status"] == "filled", "the pool is filled")
    consignment = await market.post(f"/v1/pools/{pool_id}/ship", ship, AGGREGATOR)
    assert consignment["packages"] == ship.get("packages") and consignment["freight"] == ship.get("freight")
    return pool_id, order, {"Aceh": shares[gayo.msme_id], "Sumatera Utara": shares[sidikalang.msme_id]}


async def test_a_cif_coffee_consignment_declares_its_fob_value_by_province(market: Marketplace) -> None:
    await market.call("PUT", PROFILE_URL, AGGREGATOR, json=PROFILE)
    ship = {"packages": [{"count": 400, "kind": "BG"}], "freight": {"amount": "3200.00", "currency": "USD"},
            "insurance": {"amount": "150.00", "currency": "USD"}}  # fmt: skip
    pool_id, order, made_in = await shipped_coffee(market, "CIF", ship)
    documents = f"/v1/pools/{pool_id}/documents"

    [declaration] = (await market.get(f"{documents}/peb", AGGREGATOR))["declarations"]
    assert declaration["complete"] is True, declaration["gaps"]
    assert declaration["exporter"] == {"name": PROFILE["name"], "nib": "8120301234567", "npwp": "012345678503000",
                                       "address": PROFILE["address"], "country": "ID"}  # fmt: skip
    assert declaration["consignee"] == {"name": "Rotterdam Home B.V.", "country": "NL"}
    assert declaration["port_of_loading"] == {"locode": "IDBLW", "name": "Belawan"}
    assert declaration["port_of_destination"] == {"locode": "DEHAM", "name": None}
    assert (declaration["transport_mode"], declaration["transport_mode_code"]) == ("sea", "1")
    assert (declaration["incoterm"], declaration["currency"], declaration["destination_country"]) == (
        "CIF",
        "USD",
        "DE",
    )
    assert declaration["packages"] == [{"count": 400, "kind": "BG"}]
    invoice_value = Decimal(declaration["invoice_value"])
    assert invoice_value == Decimal("166000.00")  # 400 bags at 415.00
    assert (Decimal(declaration["freight"]), Decimal(declaration["insurance"])) == (Decimal(3200), Decimal(150))
    assert Decimal(declaration["fob_value"]) == invoice_value - 3200 - 150

    goods = declaration["goods"]
    by_province = {g["regional_origin"]["province"]: g for g in goods}
    assert {p: g["regional_origin"]["code"] for p, g in by_province.items()} == {"Aceh": "11", "Sumatera Utara": "12"}
    assert {p: g["quantity"] for p, g in by_province.items()} == made_in
    assert all((g["hs_code"], g["unit"], g["country_of_origin"]) == ("09011110", "BG", "ID") for g in goods)
    assert [g["seq"] for g in goods] == [1, 2]
    # Numbers add up: to the declaration's totals, to the invoice, and to the buyer's provenance.
    assert sum(g["quantity"] for g in goods) == declaration["total_quantity"] == 400
    assert sum(Decimal(g["net_mass_kg"]) for g in goods) == Decimal(declaration["total_net_mass_kg"]) == 400 * 60
    assert sum(Decimal(g["invoice_value"]) for g in goods) == invoice_value
    assert sum(Decimal(g["fob_value"]) for g in goods) == Decimal(declaration["fob_value"])
    [invoice] = (await market.get(f"{documents}/commercial-invoice", AGGREGATOR))["invoices"]
    assert Decimal(invoice["total"]) == invoice_value and invoice["number"] == declaration["invoice_number"]
    assert invoice["seller"] == {"org": "semarang-trading", "name": PROFILE["name"], "country": "ID",
                                 "address": PROFILE["address"]}  # fmt: skip
    provenance = await market.get(f"/v1/orders/{order['id']}/provenance", BUYER)
    traced = {lot["lot_code"]: lot["quantity"] for line in provenance["lines"] for lot in line["lots"]}
    assert {code: g["quantity"] for g in goods for code in g["lots"]} == traced

    pdf = await market.client.get(f"{documents}/commercial-invoice?format=pdf", headers=AGGREGATOR)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert PROFILE["name"] in text and "semarang-trading" not in text
    packing = await market.get(f"{documents}/packing-list", AGGREGATOR)
    assert packing["exporter"]["name"] == PROFILE["name"]
    as_pdf = await market.client.get(f"{documents}/peb?format=pdf", headers=AGGREGATOR)
    assert as_pdf.status_code == 422 and [e["field"] for e in as_pdf.json()["errors"]] == ["format"]
    stranger = token(Role.AGGREGATOR, org="other-trading", sub="x")
    assert (await market.client.get(f"{documents}/peb", headers=stranger)).status_code == 404


async def test_what_gotong_does_not_know_is_listed_for_the_exporter_to_complete(market: Marketplace) -> None:
    pool_id, _, _ = await shipped_coffee(market, "CFR", {})
    [declaration] = (await market.get(f"/v1/pools/{pool_id}/documents/peb", AGGREGATOR))["declarations"]
    assert declaration["complete"] is False
    gaps = {gap["field"]: gap["reason"] for gap in declaration["gaps"]}
    assert set(gaps) == {"exporter.name", "exporter.nib", "exporter.npwp", "exporter.address", "freight", "fob_value",
                         "packages"}  # fmt: skip
    assert "exporter-profile" in gaps["exporter.nib"] and "CFR" in gaps["fob_value"]
    assert declaration["exporter"]["name"] == "semarang-trading" and declaration["exporter"]["npwp"] is None
    assert (declaration["fob_value"], declaration["freight"], declaration["insurance"]) == (None, None, None)
    assert all(g["fob_value"] is None and g["invoice_value"] for g in declaration["goods"])
    assert sum(g["quantity"] for g in declaration["goods"]) == 400
