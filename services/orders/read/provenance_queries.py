"""Reading the rows behind an order's provenance from orders' own tables (kept from other services' events)."""

from __future__ import annotations

from typing import Any, TypeVar
from uuid import UUID

import asyncpg
import msgspec
import sqlalchemy as sa

from services.orders.read.provenance import (
    CertificationRow,
    ConsignmentRow,
    InspectionRow,
    LotRow,
    LotShare,
    MsmeRow,
    ProductRow,
    Supply,
    assemble,
)
from services.orders.read.provenance_views import OrderProvenance
from services.orders.read.queries import visible_order
from services.orders.read.tables import (
    certifications,
    consignments,
    lot_inspections,
    lot_lines,
    lots,
    msmes,
    product_versions,
)
from shared.auth import Principal
from shared.sql import fetch

T = TypeVar("T", bound=msgspec.Struct)


async def _rows(db: asyncpg.Pool, statement: Any, kind: type[T]) -> list[T]:
    fields = set(kind.__struct_fields__)
    return [msgspec.convert({k: v for k, v in row.items() if k in fields}, kind) for row in await fetch(db, statement)]


def _text(column: Any) -> Any:
    """A JSON column as its text, decoded by the row's own decoder."""
    return column.cast(sa.Text).label(column.name)


async def load_supply(db: asyncpg.Pool, order_id: UUID) -> Supply:
    """Everything orders knows about the lots delivered for the order's lines."""
    shares = await _rows(db, sa.select(lot_lines).where(lot_lines.c.order_id == order_id), LotShare)
    lot_ids = sorted({share.lot_id for share in shares})
    found = await _rows(db, sa.select(lots).where(lots.c.lot_id.in_(lot_ids)), LotRow)
    i = lot_inspections.c
    inspections = await _rows(
        db,
        sa.select(i.inspection_id, i.lot_id, i.standard_id, i.standard_version, i.accepted, i.lot_size, i.resubmitted)
        .add_columns(i.severity, _text(i.plans), _text(i.verdicts), _text(i.reasons), i.inspector_org, i.at)
        .where(i.lot_id.in_(lot_ids)),
        InspectionRow,
    )
    msme_ids = sorted({lot.msme_id for lot in found})
    product_ids = sorted({lot.product_id for lot in found})
    consignment_ids = sorted({lot.consignment_id for lot in found if lot.consignment_id is not None})
    p = product_versions.c
    products = await _rows(
        db,
        sa.select(p.product_id, p.version, p.sku, p.name, p.hs_code, p.eudr_commodity, _text(p.origin_plots))
        .add_columns(p.valid_from)
        .where(p.product_id.in_(product_ids)),
        ProductRow,
    )
    return Supply(
        shares=shares,
        lots={lot.lot_id: lot for lot in found},
        inspections=inspections,
        msmes={m.msme_id: m for m in await _rows(db, sa.select(msmes).where(msmes.c.msme_id.in_(msme_ids)), MsmeRow)},
        certifications=await _rows(
            db, sa.select(certifications).where(certifications.c.msme_id.in_(msme_ids)), CertificationRow
        ),
        products=products,
        consignments={
            c.consignment_id: c
            for c in await _rows(
                db, sa.select(consignments).where(consignments.c.consignment_id.in_(consignment_ids)), ConsignmentRow
            )
        },
    )


async def provenance_of(db: asyncpg.Pool, principal: Principal, order_id: UUID) -> OrderProvenance:
    """The provenance of an order the caller may see (404 otherwise)."""
    order, _ = await visible_order(db, principal, order_id)
    return assemble(order, await load_supply(db, order_id))
