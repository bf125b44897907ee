"""The PEB's data: goods lines by order line and province that add up to the invoice, the FOB value by Incoterm,
costs apportioned to the cent, the exporter's profile, and gaps for what Gotong does not know."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.common import Money
from events.pooling import LineQuantity, Packages
from services.pooling.domain.export_declaration import MadeLot, ShipmentCosts, apportion, declarations
from services.pooling.domain.exporter_profile import ExporterProfile
from services.pooling.domain.peb_fields import ExportDeclaration
from services.pooling.domain.trade_documents import OrderTerms, Party, QuotedLine, ShippedLine, invoices

pytestmark = pytest.mark.unit

POOL = UUID("01890000-0000-7000-8000-0000000000a1")
ORDER, OTHER_ORDER = UUID(int=1), UUID(int=2)
LINE, SECOND_LINE, OTHER_LINE = UUID(int=11), UUID(int=12), UUID(int=21)
PROFILE = ExporterProfile("semarang-trading", "PT Semarang Trading", "8120301234567", "012345678503000", "Semarang")
SELLER = Party(org="semarang-trading", name="PT Semarang Trading", country="ID")


def terms(order_id: UUID, incoterm: str, lines: dict[UUID, str], hs_code: str = "09011110") -> OrderTerms:
    quoted = {line: QuotedLine(hs_code, "Arabica green", "BG", Decimal(price), "USD") for line, price in lines.items()}
    buyer = Party(org="rotterdam-home", name="Rotterdam Home B.V.", country="NL")
    return OrderTerms(order_id, buyer, incoterm, "DE", "DEHAM", "IDBLW", quoted)


def lot(code: str, province: str, *shares: tuple[UUID, UUID, int], mass: str | None = "60") -> MadeLot:
    named = tuple(LineQuantity(order_id=o, line_id=line, quantity=q) for o, line, q in shares)
    return MadeLot(code, province, None if mass is None else Decimal(mass), named)


def declare(
    order_terms: list[OrderTerms],
    lots: list[MadeLot],
    costs: list[ShipmentCosts],
    profile: ExporterProfile = PROFILE,
    consolidation_point: str = "IDBLW",
) -> list[ExportDeclaration]:
    shipped: dict[tuple[UUID, UUID], int] = {}
    for made in lots:
        for share in made.shares:
            key = (share.order_id, share.line_id)
            shipped[key] = shipped.get(key, 0) + share.quantity
    lines = [ShippedLine(order, line, quantity) for (order, line), quantity in shipped.items()]
    by_order = {t.order_id: t for t in order_terms}
    invoiced = invoices(POOL, SELLER, consolidation_point, lines, by_order)
    return declarations(POOL, profile, invoiced, by_order, lots, costs, consolidation_point).declarations


def usd(amount: str) -> Money:
    return Money(amount=Decimal(amount), currency="USD")


@given(st.decimals(min_value=0, max_value=10**9, places=2), st.lists(st.integers(0, 10**6), min_size=1, max_size=30))
def test_apportioning_adds_up_to_the_cent_and_follows_the_weights(total: Decimal, weights: list[int]) -> None:
    shares = apportion(total, [Decimal(w) for w in weights])
    assert sum(shares) == total and all(s >= 0 and s == s.quantize(Decimal("0.01")) for s in shares)
    whole = sum(weights)
    for share, weight in zip(shares, weights, strict=True):
        expected = total * weight / whole if whole else total / len(weights)
        assert abs(share - expected) < Decimal("0.01")


def test_a_fob_order_declares_its_lines_by_province_adding_up_to_the_invoice() -> None:
    order = terms(ORDER, "FOB", {LINE: "415.00", SECOND_LINE: "400.00"})
    lots = [
        lot("GAYO-1", "Aceh", (ORDER, LINE, 150), (ORDER, SECOND_LINE, 50)),
        lot("SML-1", "Sumatera Utara", (ORDER, LINE, 100)),
        lot("GAYO-2", "Aceh", (ORDER, LINE, 30)),
    ]
    [peb] = declare([order], lots, [ShipmentCosts((Packages(count=330, kind="BG"),), None, None)])
    assert peb.complete and peb.gaps == []
    assert [(g.seq, g.line_id, g.regional_origin.province, g.regional_origin.code, g.quantity) for g in peb.goods] == [
        (1, LINE, "Aceh", "11", 180),
        (2, LINE, "Sumatera Utara", "12", 100),
        (3, SECOND_LINE, "Aceh", "11", 50),
    ]
    assert peb.goods[0].lots == ["GAYO-1", "GAYO-2"]
    assert peb.invoice_value == Decimal("136200.00") == sum(g.invoice_value for g in peb.goods)
    assert peb.fob_value == peb.invoice_value == sum(g.fob_value or 0 for g in peb.goods)
    assert peb.total_quantity == 330 and peb.total_net_mass_kg == Decimal(330 * 60)
    assert (peb.freight, peb.insurance) == (None, None)  # the buyer's costs under FOB: nothing to deduct
    assert (peb.exporter.name, peb.exporter.nib, peb.exporter.npwp) == (
        "PT Semarang Trading", "8120301234567", "012345678503000",
    )  # fmt: skip
    assert peb.port_of_loading is not None and (peb.port_of_loading.locode, peb.port_of_loading.name) == (
        "IDBLW", "Belawan",
    )  # fmt: skip
    assert (peb.transport_mode, peb.transport_mode_code) == ("sea", "1")


def test_cif_deducts_freight_and_insurance_apportioned_over_orders_and_lines() -> None:
    first = terms(ORDER, "CIF", {LINE: "10.00"})
    second = terms(OTHER_ORDER, "CIF", {OTHER_LINE: "10.00"})
    lots = [lot("A-1", "Aceh", (ORDER, LINE, 200)), lot("B-1", "Bali", (OTHER_ORDER, OTHER_LINE, 100))]
    costs = [ShipmentCosts(None, usd("100.00"), usd("10.00")), ShipmentCosts(None, usd("50.00"), usd("0.01"))]
    one, two = declare([first, second], lots, costs)
    assert (one.freight, one.insurance, two.freight, two.insurance) == (
        Decimal("100.00"), Decimal("6.67"), Decimal("50.00"), Decimal("3.34"),
    )  # fmt: skip
    assert one.fob_value == Decimal("2000.00") - Decimal("106.67")
    assert two.fob_value == Decimal("1000.00") - Decimal("53.34")
    assert one.packages is None and {g.field for g in one.gaps} == {"packages"}  # the consignment was shared
    assert "several orders" in one.gaps[0].reason


def test_a_price_that_includes_costs_not_stated_leaves_the_fob_value_to_the_exporter() -> None:
    [cfr] = declare([terms(ORDER, "CFR", {LINE: "10"})], [lot("A-1", "Aceh", (ORDER, LINE, 10))], [])
    assert cfr.fob_value is None and all(g.fob_value is None for g in cfr.goods)
    assert {g.field for g in cfr.gaps} == {"freight", "fob_value", "packages"}  # insurance is the buyer's under CFR
    freight_only = ShipmentCosts(None, usd("3"), None)
    [cfr] = declare([terms(ORDER, "CFR", {LINE: "10"})], [lot("A-1", "Aceh", (ORDER, LINE, 10))], [freight_only])
    assert cfr.fob_value == Decimal(97)
    euro = ShipmentCosts(None, Money(amount=Decimal(3), currency="EUR"), None)
    [cfr] = declare([terms(ORDER, "CFR", {LINE: "10"})], [lot("A-1", "Aceh", (ORDER, LINE, 10))], [euro])
    assert cfr.fob_value is None and "USD" in next(g.reason for g in cfr.gaps if g.field == "freight")


def test_exw_and_fca_prices_stop_short_of_the_ship() -> None:
    [exw] = declare([terms(ORDER, "EXW", {LINE: "10"})], [lot("A-1", "Aceh", (ORDER, LINE, 10))], [])
    assert exw.fob_value == Decimal(100) and "port of loading" in next(
        g.reason for g in exw.gaps if g.field == "fob_value"
    )


def test_missing_facts_are_gaps_naming_their_fields() -> None:
    short_hs = terms(ORDER, "FOB", {LINE: "10"}, hs_code="940360")
    unweighed = lot("A-1", "Jawa Tengah", (ORDER, LINE, 10), mass=None)
    [peb] = declare([short_hs], [unweighed], [ShipmentCosts(None, None, None)], ExporterProfile(), "Semarang")
    fields = {g.field for g in peb.gaps}
    assert fields == {
        "exporter.name", "exporter.nib", "exporter.npwp", "exporter.address", "goods[0].hs_code",
        "goods[0].net_mass_kg", "packages",
    }  # fmt: skip
    # The pool consolidates in a city: the order's loading port is where the goods leave.
    assert peb.port_of_loading is not None and peb.port_of_loading.locode == "IDBLW"
    assert peb.exporter.name == "PT Semarang Trading" and peb.exporter.npwp is None  # the invoice's seller
    assert peb.goods[0].hs_code == "940360" and peb.total_net_mass_kg is None
    assert not peb.complete


def test_lots_that_do_not_trace_the_invoiced_quantity_are_a_gap() -> None:
    order = terms(ORDER, "FOB", {LINE: "10"})
    invoiced = invoices(POOL, SELLER, "IDBLW", [ShippedLine(ORDER, LINE, 12)], {ORDER: order})
    lots = [lot("A-1", "Aceh", (ORDER, LINE, 10))]
    [peb] = declarations(POOL, PROFILE, invoiced, {ORDER: order}, lots, [], "IDBLW").declarations
    assert "trace 10 of the 12" in next(g.reason for g in peb.gaps if g.field == "goods")
