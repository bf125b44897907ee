"""Trade documents of a shipped pool: a commercial invoice per order and the packing list. Pure.

Numbers come from the pool's own record of what shipped, so they add up to the provenance exactly: an invoice
line is an order line's shipped quantity at its quoted unit price, and the packing list is the shipped lots.
The Incoterm's named place is the loading port for F terms, the destination for C and D terms, and the
consolidation point for EXW (Incoterms 2020).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal
from uuid import UUID

import msgspec

from shared.kernel.errors import Conflict

F_TERMS = ("FCA", "FAS", "FOB")


class Party(msgspec.Struct, frozen=True, kw_only=True):
    org: str
    name: str
    country: str
    address: str | None = None


class InvoiceLine(msgspec.Struct, frozen=True, kw_only=True):
    line_id: UUID
    hs_code: str
    description: str
    quantity: int
    unit: str
    unit_price: Decimal
    amount: Decimal


class Invoice(msgspec.Struct, frozen=True, kw_only=True):
    number: str
    order_id: UUID
    buyer: Party
    seller: Party
    incoterm: str
    incoterm_place: str
    currency: str
    lines: list[InvoiceLine]
    total: Decimal


class CommercialInvoices(msgspec.Struct, frozen=True, kw_only=True):
    kind: Literal["commercial-invoice"] = "commercial-invoice"
    pool_id: UUID
    invoices: list[Invoice]


class PackedLot(msgspec.Struct, frozen=True, kw_only=True):
    lot_code: str
    msme: str
    product: str
    hs_code: str
    quantity: int
    unit: str
    net_mass_kg: Decimal | None
    gross_mass_kg: Decimal | None = None


class PackingList(msgspec.Struct, frozen=True, kw_only=True):
    kind: Literal["packing-list"] = "packing-list"
    pool_id: UUID
    exporter: Party
    lots: list[PackedLot]
    total_quantity: int
    unit: str
    total_net_mass_kg: Decimal | None


@dataclass(frozen=True)
class QuotedLine:
    hs_code: str
    description: str
    unit: str
    unit_price: Decimal
    currency: str


@dataclass(frozen=True)
class OrderTerms:
    order_id: UUID
    buyer: Party
    incoterm: str
    destination_country: str
    destination_port: str | None
    loading_port: str | None
    lines: Mapping[UUID, QuotedLine]


@dataclass(frozen=True)
class ShippedLine:
    order_id: UUID
    line_id: UUID
    quantity: int


@dataclass(frozen=True)
class ShippedLot:
    lot_code: str
    msme: str
    product: str
    quantity: int
    net_mass_kg_per_unit: Decimal | None


def incoterm_place(terms: OrderTerms, consolidation_point: str) -> str:
    if terms.incoterm == "EXW":
        return consolidation_point
    if terms.incoterm in F_TERMS:
        return terms.loading_port or consolidation_point
    return terms.destination_port or terms.destination_country


def _invoice_line(shipped: ShippedLine, quoted: QuotedLine) -> InvoiceLine:
    return InvoiceLine(
        line_id=shipped.line_id,
        hs_code=quoted.hs_code,
        description=quoted.description,
        quantity=shipped.quantity,
        unit=quoted.unit,
        unit_price=quoted.unit_price,
        amount=quoted.unit_price * shipped.quantity,
    )


def invoices(
    pool_id: UUID,
    seller: Party,
    consolidation_point: str,
    shipped: Sequence[ShippedLine],
    terms: Mapping[UUID, OrderTerms],
) -> CommercialInvoices:
    """One invoice per order with a shipped line; 409 if an order's terms have not reached pooling."""
    by_order: dict[UUID, list[ShippedLine]] = {}
    for line in shipped:
        if line.quantity:
            by_order.setdefault(line.order_id, []).append(line)
    missing = sorted(str(o) for o in by_order if o not in terms)
    if missing:
        raise Conflict(f"pooling does not know the quoted terms of orders {', '.join(missing)} yet",
                       problem="order-terms-unknown", orders=missing)  # fmt: skip
    made: list[Invoice] = []
    for number, order_id in enumerate(sorted(by_order), start=1):
        order = terms[order_id]
        shipped_lines = sorted(by_order[order_id], key=lambda s: s.line_id)
        lines = [_invoice_line(s, order.lines[s.line_id]) for s in shipped_lines]
        currencies = {order.lines[s.line_id].currency for s in by_order[order_id]}
        if len(currencies) != 1:
            raise Conflict(f"order {order_id} was quoted in several currencies", problem="mixed-currencies")
        made.append(
            Invoice(
                number=f"{str(pool_id)[-8:].upper()}-{number:03d}",
                order_id=order_id,
                buyer=order.buyer,
                seller=seller,
                incoterm=order.incoterm,
                incoterm_place=incoterm_place(order, consolidation_point),
                currency=currencies.pop(),
                lines=lines,
                total=sum((line.amount for line in lines), Decimal(0)),
            )
        )
    return CommercialInvoices(pool_id=pool_id, invoices=made)


def packing_list(pool_id: UUID, exporter: Party, hs_code: str, unit: str, lots: Sequence[ShippedLot]) -> PackingList:
    packed = [
        PackedLot(
            lot_code=lot.lot_code,
            msme=lot.msme,
            product=lot.product,
            hs_code=hs_code,
            quantity=lot.quantity,
            unit=unit,
            net_mass_kg=None if lot.net_mass_kg_per_unit is None else lot.net_mass_kg_per_unit * lot.quantity,
        )
        for lot in sorted(lots, key=lambda lot: lot.lot_code)
    ]
    masses = [p.net_mass_kg for p in packed]
    total_mass = None if any(m is None for m in masses) else sum((m for m in masses if m is not None), Decimal(0))
    return PackingList(
        pool_id=pool_id, exporter=exporter, lots=packed, total_quantity=sum(p.quantity for p in packed), unit=unit,
        total_net_mass_kg=total_mass,
    )  # fmt: skip


ASEAN = frozenset({"BN", "KH", "LA", "MY", "MM", "PH", "SG", "TH", "VN"})


def origin_form(destination_country: str) -> str:
    """The e-SKA form a destination takes: ASEAN (ATIGA) Form D, ACFTA Form E, AIFTA Form AI, IA-CEPA for
    Australia, else the general (non-preferential) certificate."""
    if destination_country in ASEAN:
        return "Form D"
    return {"CN": "Form E", "IN": "Form AI", "AU": "IA-CEPA"}.get(destination_country, "general")


def origin_criterion(hs_code: str) -> str:
    """Goods of HS chapters 01–24 grown and processed by the MSMEs are wholly obtained (``WO``); manufactured goods
    are proposed under a change of tariff heading (``CTH``), which the exporter confirms when it applies."""
    return "WO" if int(hs_code[:2]) <= 24 else "CTH"


class OriginRequest(msgspec.Struct, frozen=True, kw_only=True):
    order_id: UUID
    form: str
    exporter: Party
    consignee: Party
    destination_country: str
    destination_port: str | None
    loading_port: str | None
    hs_codes: list[str]
    origin_criterion: str
    quantity: int
    unit: str
    invoice_number: str
    invoice_total: Decimal
    currency: str


class OriginRequests(msgspec.Struct, frozen=True, kw_only=True):
    """The data of a certificate of origin request per order, as Indonesia's e-SKA asks for it."""

    kind: Literal["certificate-of-origin"] = "certificate-of-origin"
    pool_id: UUID
    requests: list[OriginRequest]


def origin_requests(invoiced: CommercialInvoices, terms: Mapping[UUID, OrderTerms]) -> OriginRequests:
    requests = []
    for invoice in invoiced.invoices:
        order = terms[invoice.order_id]
        hs_codes = sorted({line.hs_code for line in invoice.lines})
        requests.append(
            OriginRequest(
                order_id=invoice.order_id,
                form=origin_form(order.destination_country),
                exporter=invoice.seller,
                consignee=invoice.buyer,
                destination_country=order.destination_country,
                destination_port=order.destination_port,
                loading_port=order.loading_port,
                hs_codes=hs_codes,
                origin_criterion=origin_criterion(hs_codes[0]),
                quantity=sum(line.quantity for line in invoice.lines),
                unit=invoice.lines[0].unit,
                invoice_number=invoice.number,
                invoice_total=invoice.total,
                currency=invoice.currency,
            )
        )
    return OriginRequests(pool_id=invoiced.pool_id, requests=requests)
