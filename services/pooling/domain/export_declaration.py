"""The data of an export declaration (PEB, Pemberitahuan Ekspor Barang) per order a pool shipped, in the fields
Indonesian customs' CEISA 4.0 asks for. Pure.

A PEB names one consignee, so each order the pool shipped for gets its own. Its goods lines are the order's
lines as made in each province (regional origin is declared per line), from the shipped lots' shares of each
order line, which are the order's provenance; their quantities add up to the order's commercial invoice. The
FOB value is the invoice value for EXW and F terms, and the invoice value less freight and insurance for C and
D terms, from what the aggregator stated when shipping (apportioned over orders and lines by invoice amount to
the cent). What Gotong does not know, or knows only in part, is listed in ``gaps`` for the exporter to complete
before filing, with the field it concerns; a declaration without gaps is ``complete``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Literal
from uuid import UUID

from events.common import Money
from events.pooling import LineQuantity, Packages
from services.pooling.domain.exporter_profile import ExporterProfile
from services.pooling.domain.peb_fields import (
    DeclaredExporter,
    DeclaredGoods,
    DeclaredParty,
    ExportDeclaration,
    ExportDeclarations,
    Gap,
    Port,
    RegionalOrigin,
)
from services.pooling.domain.trade_documents import CommercialInvoices, Invoice, OrderTerms
from shared.kernel.geography import PROVINCES, find_place

CENT = Decimal("0.01")
HS_DIGITS = 8  # the BTKI (Indonesian customs tariff book) code a PEB line takes
SEA = ("sea", "1")  # CEISA's mode of transport: 1 laut (sea); every port Gotong knows is a seaport
FOB_AS_INVOICED = ("FOB", "FAS", "FCA", "EXW")
FREIGHT_DEDUCTED = ("CFR", "CPT")  # the buyer insures: only freight is in the price


@dataclass(frozen=True)
class MadeLot:
    """A shipped lot as the declaration needs it: who made it where, its mass per unit, and its order lines."""

    lot_code: str
    province: str
    net_mass_kg_per_unit: Decimal | None
    shares: tuple[LineQuantity, ...]


@dataclass(frozen=True)
class ShipmentCosts:
    """What the aggregator stated when shipping each consignment of the pool."""

    packages: tuple[Packages, ...] | None
    freight: Money | None
    insurance: Money | None


def apportion(total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """``total`` split in proportion to ``weights``, to the cent, adding up exactly (largest remainders first)."""
    cents = int((total / CENT).to_integral_value())
    whole = sum(weights, Decimal(0))
    if not weights:
        return []
    if whole == 0:
        weights, whole = [Decimal(1)] * len(weights), Decimal(len(weights))
    exact = [Decimal(cents) * w / whole for w in weights]
    floors = [int(e.to_integral_value(rounding=ROUND_DOWN)) for e in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in by_remainder[: cents - sum(floors)]:
        floors[i] += 1
    return [Decimal(c) * CENT for c in floors]


def _stated(costs: Sequence[ShipmentCosts], name: Literal["freight", "insurance"]) -> Money | None:
    """The pool's total freight or insurance, if every consignment stated it (in the pool's currency)."""
    stated = [getattr(c, name) for c in costs]
    if not stated or any(m is None for m in stated):
        return None
    return Money(amount=sum((m.amount for m in stated), Decimal(0)), currency=stated[0].currency)


def _shares(total: Money | None, weights: Sequence[Decimal]) -> list[Money | None]:
    if total is None:
        return [None] * len(weights)
    return [Money(amount=a, currency=total.currency) for a in apportion(total.amount, weights)]


def _packages(costs: Sequence[ShipmentCosts]) -> list[Packages] | None:
    if not costs or any(c.packages is None for c in costs):
        return None
    counts: dict[str, int] = {}
    for cost in costs:
        for packed in cost.packages or ():
            counts[packed.kind] = counts.get(packed.kind, 0) + packed.count
    return [Packages(count=n, kind=kind) for kind, n in sorted(counts.items())]


def _port(locode: str | None) -> Port | None:
    if locode is None:
        return None
    place = find_place(locode)
    return Port(locode=locode, name=place.name if place is not None and place.kind == "port" else None)


def _loading_port(consolidation_point: str, terms: OrderTerms) -> str | None:
    """Where the consignment leaves: the pool's consolidation point when it is a port, else the order's."""
    place = find_place(consolidation_point)
    if place is not None and place.kind == "port" and place.locode:
        return place.locode
    return terms.loading_port


def declarations(
    pool_id: UUID,
    exporter: ExporterProfile,
    invoiced: CommercialInvoices,
    terms: Mapping[UUID, OrderTerms],
    lots: Sequence[MadeLot],
    costs: Sequence[ShipmentCosts],
    consolidation_point: str,
) -> ExportDeclarations:
    """A PEB's data per invoiced order, from the same figures as its invoice."""
    invoices = invoiced.invoices
    totals = [invoice.total for invoice in invoices]
    freights = _shares(_stated(costs, "freight"), totals)
    insurances = _shares(_stated(costs, "insurance"), totals)
    packages = _packages(costs) if len(invoices) == 1 else None
    made = [
        _declaration(
            invoice, exporter, terms[invoice.order_id], lots, consolidation_point, (freight, insurance), packages,
            several_orders=len(invoices) > 1,
        )
        for invoice, freight, insurance in zip(invoices, freights, insurances, strict=True)
    ]  # fmt: skip
    return ExportDeclarations(pool_id=pool_id, declarations=made)


def _declaration(
    invoice: Invoice,
    profile: ExporterProfile,
    terms: OrderTerms,
    lots: Sequence[MadeLot],
    consolidation_point: str,
    costs: tuple[Money | None, Money | None],
    packages: list[Packages] | None,
    *,
    several_orders: bool,
) -> ExportDeclaration:
    gaps: list[Gap] = []
    exporter = DeclaredExporter(
        name=profile.name or invoice.seller.name,
        nib=profile.nib or None,
        npwp=profile.npwp or None,
        address=profile.address or None,
    )
    if not profile.exists:
        reason = "the aggregator has no exporter profile (PUT /v1/aggregators/{org}/exporter-profile)"
        gaps += [Gap(field=f"exporter.{f}", reason=reason) for f in ("name", "nib", "npwp", "address")]
    loading = _port(_loading_port(consolidation_point, terms))
    destination = _port(terms.destination_port)
    if loading is None:
        gaps.append(Gap(field="port_of_loading", reason="the pool consolidates at a city and the order names no port"))
    if destination is None:
        gaps.append(Gap(field="port_of_destination", reason="the order names no port of destination"))
    mode = SEA if loading is not None and loading.name is not None else (None, None)
    if mode[0] is None:
        gaps.append(Gap(field="transport_mode", reason="the port of loading is not a seaport Gotong knows"))
    fob, freight, insurance = _fob(invoice, costs, gaps)
    goods = _goods(invoice, lots, fob, gaps)
    if packages is None:
        why = "the consignment carried several orders" if several_orders else "not stated when shipping"
        gaps.append(Gap(field="packages", reason=why))
    masses = [g.net_mass_kg for g in goods]
    return ExportDeclaration(
        order_id=invoice.order_id,
        invoice_number=invoice.number,
        exporter=exporter,
        consignee=DeclaredParty(name=invoice.buyer.name, country=invoice.buyer.country),
        buyer=DeclaredParty(name=invoice.buyer.name, country=invoice.buyer.country),
        destination_country=terms.destination_country,
        port_of_loading=loading,
        port_of_destination=destination,
        transport_mode=mode[0],
        transport_mode_code=mode[1],
        incoterm=invoice.incoterm,
        currency=invoice.currency,
        invoice_value=invoice.total,
        fob_value=fob,
        freight=freight,
        insurance=insurance,
        packages=packages,
        goods=goods,
        total_quantity=sum(g.quantity for g in goods),
        total_net_mass_kg=None if None in masses else sum((m for m in masses if m is not None), Decimal(0)),
        complete=not gaps,
        gaps=gaps,
    )


def _fob(
    invoice: Invoice, costs: tuple[Money | None, Money | None], gaps: list[Gap]
) -> tuple[Decimal | None, Decimal | None, Decimal | None]:
    """(FOB value, freight, insurance) of the order, in its invoice's currency (costs in another are not used)."""
    freight, insurance = (m.amount if m is not None and m.currency == invoice.currency else None for m in costs)
    term = invoice.incoterm
    if term in FOB_AS_INVOICED:
        if term in ("EXW", "FCA"):
            reason = f"an {term} price stops short of the ship: add carriage to the port of loading"
            gaps.append(Gap(field="fob_value", reason=reason))
        return invoice.total, freight, insurance
    needed = {"freight": freight} if term in FREIGHT_DEDUCTED else {"freight": freight, "insurance": insurance}
    unknown = [name for name, value in needed.items() if value is None]
    for name in unknown:
        reason = f"a {term} price includes {name}, which was not stated in {invoice.currency} when shipping"
        gaps.append(Gap(field=name, reason=reason))
    if unknown:
        gaps.append(Gap(field="fob_value", reason=f"the {term} invoice value less {' and '.join(unknown)}"))
        return None, freight, insurance
    return invoice.total - sum((v for v in needed.values() if v is not None), Decimal(0)), freight, insurance


def _goods(invoice: Invoice, lots: Sequence[MadeLot], fob: Decimal | None, gaps: list[Gap]) -> list[DeclaredGoods]:
    """The order's lines as made in each province, in line then province order."""
    made: dict[tuple[UUID, str], list[tuple[MadeLot, int]]] = {}
    for lot in lots:
        for share in lot.shares:
            if share.order_id == invoice.order_id and share.quantity:
                made.setdefault((share.line_id, lot.province), []).append((lot, share.quantity))
    lines = {line.line_id: line for line in invoice.lines}
    order = list(lines)
    keys = sorted((k for k in made if k[0] in lines), key=lambda k: (order.index(k[0]), k[1]))
    for line in invoice.lines:
        traced = sum(q for k in keys if k[0] == line.line_id for _, q in made[k])
        if traced != line.quantity:
            reason = f"the shipped lots trace {traced} of the {line.quantity} invoiced for line {line.line_id}"
            gaps.append(Gap(field="goods", reason=reason))
    amounts = [lines[k[0]].unit_price * sum(q for _, q in made[k]) for k in keys]
    fobs: list[Decimal | None] = [None] * len(keys) if fob is None else [*apportion(fob, amounts)]
    goods: list[DeclaredGoods] = []
    for seq, (key, amount, fob_value) in enumerate(zip(keys, amounts, fobs, strict=True), start=1):
        line, shares = lines[key[0]], made[key]
        hs_code = line.hs_code[:HS_DIGITS]
        if len(hs_code) < HS_DIGITS:
            reason = f"the order line's HS code has {len(hs_code)} digits; the BTKI code has {HS_DIGITS}"
            gaps.append(Gap(field=f"goods[{seq - 1}].hs_code", reason=reason))
        if _mass(shares) is None:
            gaps.append(Gap(field=f"goods[{seq - 1}].net_mass_kg", reason="a product has no net mass per unit"))
        goods.append(
            DeclaredGoods(
                seq=seq,
                line_id=line.line_id,
                hs_code=hs_code,
                description=line.description,
                quantity=sum(q for _, q in shares),
                unit=line.unit,
                net_mass_kg=_mass(shares),
                invoice_value=amount,
                fob_value=fob_value,
                country_of_origin="ID",
                regional_origin=RegionalOrigin(province=key[1], code=PROVINCES.get(key[1])),
                lots=sorted(lot.lot_code for lot, _ in shares),
            )
        )  # fmt: skip
    return goods


def _mass(shares: Sequence[tuple[MadeLot, int]]) -> Decimal | None:
    """Net mass in kg of the units the shares name, if every lot's product has a unit mass."""
    masses = [(lot.net_mass_kg_per_unit, quantity) for lot, quantity in shares]
    if any(mass is None for mass, _ in masses):
        return None
    return sum((mass * quantity for mass, quantity in masses if mass is not None), Decimal(0))
