"""Where an order's goods came from: per line, the consignments and lots, the MSMEs that made them (with the
certifications valid when they delivered), the inspection verdicts with their sampling plans, and the origin
plots of products that have them. Pure: ``assemble`` takes rows orders keeps from other services' events.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

import msgspec

from events.catalog import OriginPlot
from events.quality import ClassPlan, ClassVerdict
from services.orders.domain.order import Order
from services.orders.read.provenance_views import (
    Certificate,
    ConsignmentOrigin,
    InspectionRecord,
    LineOrigin,
    LotOrigin,
    MsmeOrigin,
    OrderProvenance,
    ProductOrigin,
)


class LotShare(msgspec.Struct, frozen=True, kw_only=True):
    """Units of a lot delivered for one order line."""

    lot_id: UUID
    line_id: UUID
    quantity: int


class LotRow(msgspec.Struct, frozen=True, kw_only=True):
    lot_id: UUID
    msme_id: UUID
    product_id: UUID
    lot_code: str
    quantity: int
    unit: str
    delivered_on: date
    received_at: datetime
    status: str
    consignment_id: UUID | None
    decided_by: UUID | None = None


class InspectionRow(msgspec.Struct, frozen=True, kw_only=True):
    inspection_id: UUID
    lot_id: UUID
    standard_id: UUID
    standard_version: int
    accepted: bool
    lot_size: int
    resubmitted: bool
    severity: str
    plans: str
    verdicts: str
    reasons: str
    inspector_org: str
    at: datetime


class MsmeRow(msgspec.Struct, frozen=True, kw_only=True):
    msme_id: UUID
    name: str
    nib: str
    province: str
    city: str


class CertificationRow(Certificate, frozen=True, kw_only=True):
    msme_id: UUID


class ProductRow(msgspec.Struct, frozen=True, kw_only=True):
    product_id: UUID
    version: int
    sku: str
    name: str
    hs_code: str
    eudr_commodity: str | None
    origin_plots: str
    valid_from: datetime


class ConsignmentRow(msgspec.Struct, frozen=True, kw_only=True):
    consignment_id: UUID
    shipped_at: datetime
    partial: bool
    consent_reference: str | None


class Supply(msgspec.Struct, frozen=True, kw_only=True):
    """The rows behind an order's lines, as orders keeps them from other services' events."""

    shares: Sequence[LotShare]
    lots: Mapping[UUID, LotRow]
    inspections: Sequence[InspectionRow]
    msmes: Mapping[UUID, MsmeRow]
    certifications: Sequence[CertificationRow]
    products: Sequence[ProductRow]
    consignments: Mapping[UUID, ConsignmentRow]


_plots = msgspec.json.Decoder(list[OriginPlot])
_plans = msgspec.json.Decoder(list[ClassPlan])
_verdicts = msgspec.json.Decoder(list[ClassVerdict])
_reasons = msgspec.json.Decoder(list[str])


def _msme(supply: Supply, msme_id: UUID, on: date) -> MsmeOrigin | None:
    row = supply.msmes.get(msme_id)
    if row is None:
        return None
    valid = [c for c in supply.certifications if c.msme_id == msme_id and c.valid_from <= on <= c.valid_until]
    certificates = [
        Certificate(
            kind=c.kind,
            name=c.name,
            number=c.number,
            issuer=c.issuer,
            valid_from=c.valid_from,
            valid_until=c.valid_until,
        )
        for c in sorted(valid, key=lambda c: (c.kind, c.number))
    ]
    return MsmeOrigin(
        msme_id=msme_id, name=row.name, nib=row.nib, province=row.province, city=row.city, certifications=certificates
    )


def _product(supply: Supply, product_id: UUID, received_at: datetime) -> ProductOrigin | None:
    """The product's description in force when the lot arrived (its first one if all came later)."""
    versions = sorted((p for p in supply.products if p.product_id == product_id), key=lambda p: p.version)
    if not versions:
        return None
    current = [p for p in versions if p.valid_from <= received_at]
    row = current[-1] if current else versions[0]
    return ProductOrigin(
        product_id=product_id,
        sku=row.sku,
        name=row.name,
        hs_code=row.hs_code,
        eudr_commodity=row.eudr_commodity,
        origin_plots=_plots.decode(row.origin_plots),
    )


def _inspections(supply: Supply, lot_id: UUID) -> list[InspectionRecord]:
    rows = sorted((i for i in supply.inspections if i.lot_id == lot_id), key=lambda i: (i.at, i.inspection_id))
    return [
        InspectionRecord(
            inspection_id=row.inspection_id,
            verdict="accepted" if row.accepted else "rejected",
            inspected_at=row.at,
            inspector_org=row.inspector_org,
            counted=row.inspection_id == supply.lots[lot_id].decided_by,
            severity=row.severity,
            lot_size=row.lot_size,
            resubmitted=row.resubmitted,
            standard_id=row.standard_id,
            standard_version=row.standard_version,
            plans=_plans.decode(row.plans),
            verdicts=_verdicts.decode(row.verdicts),
            reasons=_reasons.decode(row.reasons),
        )
        for row in rows
    ]


def _lot(supply: Supply, share: LotShare) -> LotOrigin:
    lot = supply.lots[share.lot_id]
    return LotOrigin(
        lot_id=lot.lot_id,
        lot_code=lot.lot_code,
        status=lot.status,
        quantity=share.quantity,
        lot_quantity=lot.quantity,
        unit=lot.unit,
        delivered_on=lot.delivered_on,
        consignment_id=lot.consignment_id,
        msme=_msme(supply, lot.msme_id, lot.delivered_on),
        product=_product(supply, lot.product_id, lot.received_at),
        inspections=_inspections(supply, lot.lot_id),
    )


def _consignments(supply: Supply, lots: Sequence[LotOrigin]) -> list[ConsignmentOrigin]:
    quantities: dict[UUID, int] = {}
    for lot in lots:
        if lot.consignment_id is not None:
            quantities[lot.consignment_id] = quantities.get(lot.consignment_id, 0) + lot.quantity
    found = sorted(
        ((supply.consignments[c], q) for c, q in quantities.items() if c in supply.consignments),
        key=lambda pair: (pair[0].shipped_at, pair[0].consignment_id),
    )
    return [
        ConsignmentOrigin(
            consignment_id=row.consignment_id,
            shipped_at=row.shipped_at,
            partial=row.partial,
            consent_reference=row.consent_reference,
            quantity=quantity,
        )
        for row, quantity in found
    ]


def assemble(order: Order, supply: Supply) -> OrderProvenance:
    """Each line with the lots delivered for it (oldest first), where they shipped, who made them and how
    they were judged."""
    assert order.order_id is not None and order.state is not None
    lines: list[LineOrigin] = []
    for line in order.lines:
        shares = [s for s in supply.shares if s.line_id == line.line_id and s.lot_id in supply.lots]
        lots = sorted((_lot(supply, share) for share in shares), key=lambda lot: (lot.delivered_on, lot.lot_code))
        shipped = sum(lot.quantity for lot in lots if lot.consignment_id is not None)
        lines.append(
            LineOrigin(
                line_id=line.line_id,
                description=line.description,
                category=line.category,
                hs_code=line.hs_code,
                quantity=line.quantity,
                unit=line.unit,
                standard_id=line.standard_id,
                standard_version=line.standard_version,
                shipped=shipped,
                consignments=_consignments(supply, lots),
                lots=lots,
            )
        )
    return OrderProvenance(
        order_id=order.order_id,
        buyer_org=order.buyer_org,
        aggregator_org=order.aggregator_org,
        state=order.state,
        incoterm=order.incoterm,
        destination_country=order.destination_country,
        destination_port=order.destination_port,
        lines=lines,
    )


def total_area(plots: Sequence[OriginPlot]) -> Decimal:
    return sum((plot.area_hectares for plot in plots), Decimal(0))
