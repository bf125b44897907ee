"""What the provenance of an order shows: per line, its consignments and lots, who made them, how they were
judged and where the raw material grew."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

import msgspec

from events.catalog import OriginPlot
from events.orders import Incoterm, OrderState
from events.quality import ClassPlan, ClassVerdict


class Certificate(msgspec.Struct, frozen=True, kw_only=True):
    kind: str
    name: str
    number: str
    issuer: str
    valid_from: date
    valid_until: date


class MsmeOrigin(msgspec.Struct, frozen=True, kw_only=True):
    """The producer of a lot; ``certifications`` are those valid on the day it delivered the lot."""

    msme_id: UUID
    name: str
    nib: str
    province: str
    city: str
    certifications: list[Certificate]


class ProductOrigin(msgspec.Struct, frozen=True, kw_only=True):
    """The product as described when the lot arrived, with the plots its raw material comes from."""

    product_id: UUID
    sku: str
    name: str
    hs_code: str
    eudr_commodity: str | None
    origin_plots: list[OriginPlot]


class InspectionRecord(msgspec.Struct, frozen=True, kw_only=True):
    inspection_id: UUID
    verdict: Literal["accepted", "rejected"]
    inspected_at: datetime
    inspector_org: str
    counted: bool
    """The pool acted on this verdict. A verdict by an organisation the pool does not name among those it
    trusts is listed, but does not count; nor does any verdict before the pool has acted."""
    severity: str
    lot_size: int
    resubmitted: bool
    standard_id: UUID
    standard_version: int
    plans: list[ClassPlan]
    verdicts: list[ClassVerdict]
    reasons: list[str]


class LotOrigin(msgspec.Struct, frozen=True, kw_only=True):
    """A lot delivered for the line: ``quantity`` of its units serve this line (of ``lot_quantity``)."""

    lot_id: UUID
    lot_code: str
    status: str
    quantity: int
    lot_quantity: int
    unit: str
    delivered_on: date
    consignment_id: UUID | None
    msme: MsmeOrigin | None
    product: ProductOrigin | None
    inspections: list[InspectionRecord]


class ConsignmentOrigin(msgspec.Struct, frozen=True, kw_only=True):
    consignment_id: UUID
    shipped_at: datetime
    partial: bool
    consent_reference: str | None
    quantity: int
    """Units of this line in the consignment."""


class LineOrigin(msgspec.Struct, frozen=True, kw_only=True):
    line_id: UUID
    description: str
    category: str
    hs_code: str
    quantity: int
    unit: str
    standard_id: UUID
    standard_version: int
    shipped: int
    consignments: list[ConsignmentOrigin]
    lots: list[LotOrigin]


class OrderProvenance(msgspec.Struct, frozen=True, kw_only=True):
    order_id: UUID
    buyer_org: str
    aggregator_org: str | None
    state: OrderState
    incoterm: Incoterm
    destination_country: str
    destination_port: str | None
    lines: list[LineOrigin]
