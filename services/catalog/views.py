"""What the catalog API shows: MSME profiles and products, from command results or from the read models."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any
from uuid import UUID

import asyncpg
import msgspec
import sqlalchemy as sa

from events.catalog import Contact, OriginPlot, StandardRef
from events.common import PriceTier
from services.catalog.commands import ProductOutcome, is_owner
from services.catalog.msmes import Msme
from services.catalog.rules import eudr_commodity
from services.catalog.schemas import CapacityMonth, CertificationView, MsmeView, ProductSummary, ProductView
from services.catalog.tables import capacity, certifications, commitments, msmes, products
from shared.auth import Principal, Role
from shared.errors import NotFound
from shared.eventstore import Connection
from shared.sql import fetch, fetchrow

_tiers = msgspec.json.Decoder(list[PriceTier])
_standards = msgspec.json.Decoder(list[StandardRef])
_plots = msgspec.json.Decoder(list[OriginPlot])
_contact = msgspec.json.Decoder(Contact)


def sees_contact(principal: Principal, org: str) -> bool:
    """Contacts are personal data: the owner, aggregators and admins see them; buyers and inspectors do not."""
    return is_owner(principal, org) or principal.role is Role.AGGREGATOR


def msme_from_state(state: Msme, *, today: date, principal: Principal, version: int, position: int = 0) -> MsmeView:
    assert state.msme_id is not None
    held = [
        CertificationView(
            id=c.certification_id,
            kind=c.kind,
            name=c.name,
            number=c.number,
            issuer=c.issuer,
            valid_from=c.valid_from,
            valid_until=c.valid_until,
            valid=c.valid_on(today),
        )
        for c in state.certifications
    ]
    return MsmeView(
        id=state.msme_id,
        org=state.org,
        name=state.name,
        nib=state.nib,
        province=state.province,
        city=state.city,
        contact=state.contact if sees_contact(principal, state.org) else None,
        size_class=state.size_class,
        status=state.status,
        certifications=held,
        product_count=len(state.skus),
        version=version,
        position=position,
    )


async def read_msme(pool: asyncpg.Pool, msme_id: UUID, *, today: date, principal: Principal) -> MsmeView:
    row = await fetchrow(pool, sa.select(msmes).where(msmes.c.id == msme_id))
    if row is None:
        raise NotFound(f"no MSME {msme_id}")
    held = await fetch(
        pool,
        sa.select(certifications)
        .where(certifications.c.msme_id == msme_id)
        .order_by(certifications.c.valid_until.desc(), certifications.c.id),
    )
    count = await pool.fetchval(f"SELECT count(*) FROM {products.fullname} WHERE msme_id = $1", msme_id)
    return MsmeView(
        id=row["id"],
        org=row["org"],
        name=row["name"],
        nib=row["nib"],
        province=row["province"],
        city=row["city"],
        contact=_contact.decode(row["contact"]) if sees_contact(principal, row["org"]) else None,
        size_class=row["size_class"],
        status=row["status"],
        certifications=[
            CertificationView(
                id=c["id"],
                kind=c["kind"],
                name=c["name"],
                number=c["number"],
                issuer=c["issuer"],
                valid_from=c["valid_from"],
                valid_until=c["valid_until"],
                valid=c["valid_from"] <= today <= c["valid_until"],
            )
            for c in held
        ],
        product_count=int(count),
        version=row["version"],
    )


async def capacity_months(connection: Connection | asyncpg.Pool, product_id: UUID, first: str) -> list[CapacityMonth]:
    """Declared, committed and available units per month from ``first`` on."""
    rows = await fetch(
        connection,
        sa.select(capacity.c.month, capacity.c.declared, capacity.c.committed)
        .where(capacity.c.product_id == product_id, capacity.c.month >= first)
        .order_by(capacity.c.month),
    )
    return [_month(r["month"], r["declared"], r["committed"]) for r in rows]


def _month(month: str, declared: int, committed: int) -> CapacityMonth:
    return CapacityMonth(month=month, declared=declared, committed=committed, available=max(declared - committed, 0))


async def product_from_outcome(connection: Connection, outcome: ProductOutcome, *, first_month: str) -> ProductView:
    """The product as the command left it; committed units come from pooling's commitments."""
    product, msme = outcome.product, outcome.msme
    assert product.product_id is not None and product.msme_id is not None and product.spec is not None
    rows = await fetch(
        connection,
        sa.select(commitments.c.month, commitments.c.committed).where(commitments.c.product_id == product.product_id),
    )
    committed = {r["month"]: r["committed"] for r in rows}
    spec = product.spec
    return ProductView(
        id=product.product_id,
        msme_id=product.msme_id,
        org=product.org,
        msme_name=msme.name,
        province=msme.province,
        city=msme.city,
        sku=spec.sku,
        name=spec.name,
        description=spec.description,
        hs_code=spec.hs_code,
        category=spec.category,
        unit=spec.unit,
        moq=spec.moq,
        price_tiers=spec.price_tiers,
        currency=spec.price_tiers[0].unit_price.currency,
        lead_time_days=spec.lead_time_days,
        standards=spec.standards,
        origin_plots=spec.origin_plots,
        eudr_commodity=eudr_commodity(spec.hs_code),
        capacity=[
            _month(month, units, committed.get(month, 0))
            for month, units in sorted(product.capacity.items())
            if month >= first_month
        ],
        version=outcome.version,
    )


def product_from_row(row: Mapping[str, Any], months: Sequence[CapacityMonth]) -> ProductView:
    return ProductView(
        id=row["id"],
        msme_id=row["msme_id"],
        org=row["org"],
        msme_name=row["msme_name"],
        province=row["province"],
        city=row["city"],
        sku=row["sku"],
        name=row["name"],
        description=row["description"],
        hs_code=row["hs_code"],
        category=row["category"],
        unit=row["unit"],
        moq=row["moq"],
        price_tiers=_tiers.decode(row["price_tiers"]),
        currency=row["currency"],
        lead_time_days=row["lead_time_days"],
        standards=_standards.decode(row["standard_refs"]),
        origin_plots=_plots.decode(row["origin_plots"]),
        eudr_commodity=row["eudr_commodity"],
        capacity=list(months),
        version=row["version"],
    )


def summary_from_row(row: Mapping[str, Any]) -> ProductSummary:
    return ProductSummary(
        id=row["id"],
        msme_id=row["msme_id"],
        msme_name=row["msme_name"],
        province=row["province"],
        city=row["city"],
        sku=row["sku"],
        name=row["name"],
        hs_code=row["hs_code"],
        category=row["category"],
        unit=row["unit"],
        moq=row["moq"],
        price_tiers=_tiers.decode(row["price_tiers"]),
        currency=row["currency"],
        lead_time_days=row["lead_time_days"],
        standards=_standards.decode(row["standard_refs"]),
        eudr_commodity=row["eudr_commodity"],
        available=row.get("available"),
    )
