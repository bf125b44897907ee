"""SQL reads of the catalog's read model: an MSME's profile, a product and its capacity by month."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import asyncpg
import msgspec
import sqlalchemy as sa

from events.catalog import Contact
from services.catalog.commands import ProductOutcome
from services.catalog.domain.rules import eudr_commodity
from services.catalog.read.tables import capacity, certifications, commitments, msmes, products
from services.catalog.read.views import (
    CapacityMonth,
    CertificationView,
    MsmeView,
    ProductView,
    capacity_month,
    sees_contact,
)
from shared.auth import Principal
from shared.errors import NotFound
from shared.eventstore import Connection
from shared.sql import fetch, fetchrow

_contact = msgspec.json.Decoder(Contact)


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
    return [capacity_month(r["month"], r["declared"], r["committed"]) for r in rows]


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
            capacity_month(month, units, committed.get(month, 0))
            for month, units in sorted(product.capacity.items())
            if month >= first_month
        ],
        version=outcome.version,
    )
