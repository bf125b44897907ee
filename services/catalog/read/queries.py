"""Reads of the catalog's read model: an MSME's profile, a product and its capacity by month, product search."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated
from uuid import UUID

import asyncpg
import msgspec
import sqlalchemy as sa

from events.catalog import CertificationScope, Contact
from services.catalog.commands import ProductOutcome
from services.catalog.domain.rules import (
    canonical_province,
    eudr_commodity,
)
from services.catalog.read.search import SearchQuery, find_products, lookup_statement, product_search
from services.catalog.read.tables import capacity, certifications, commitments, msmes, products
from services.catalog.read.views import (
    CapacityMonth,
    CertificationView,
    MsmeSummary,
    MsmeView,
    ProductSummary,
    ProductView,
    Region,
    capacity_month,
    product_from_row,
    region_from_city,
    sees_contact,
    summary_from_row,
)
from shared.auth import Principal, Role
from shared.eventstore import Connection
from shared.kernel.errors import InvalidInput, NotFound
from shared.kernel.geography import province_refusal, regencies
from shared.pages import BY_ID, Keyset, Page
from shared.sql import fetch, fetchrow

_contact = msgspec.json.Decoder(Contact)


def _scope(product_ids: list[UUID] | None, hs_prefixes: list[str] | None) -> CertificationScope | None:
    if product_ids is None and hs_prefixes is None:
        return None
    return CertificationScope(product_ids=product_ids or [], hs_prefixes=hs_prefixes or [])


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
                scope=_scope(c["scope_product_ids"], c["scope_hs_prefixes"]),
            )
            for c in held
        ],
        product_count=int(count),
        version=row["version"],
    )


@dataclass(frozen=True)
class MsmeFilter:
    """What a list of MSMEs is narrowed to; None places no limit."""

    org: str | None = None
    registered_by: str | None = None
    province: str | None = None
    city: str | None = None
    status: str | None = None
    certification: str | None = None
    certified_on: date | None = None
    q: str | None = None


async def list_msmes(
    pool: asyncpg.Pool, principal: Principal, wanted: MsmeFilter, *, after: UUID | None, limit: int
) -> Page[MsmeSummary]:
    """MSMEs in id order. Suspended MSMEs show only to aggregators, admins and their own organisation's users."""
    c = msmes.c
    query = sa.select(*(getattr(c, f) for f in MsmeSummary.__struct_fields__)).order_by(c.id).limit(limit + 1)
    exact = {"org": wanted.org, "registered_by": wanted.registered_by, "status": wanted.status}
    for column, value in exact.items():
        if value is not None:
            query = query.where(c[column] == value)
    if wanted.province is not None:
        province = canonical_province(wanted.province)
        if province is None:
            raise InvalidInput.of("province", province_refusal())
        query = query.where(c.province == province)
    if wanted.city is not None:
        query = query.where(sa.func.lower(c.city) == wanted.city.strip().lower())
    if wanted.q:
        query = query.where(c.name.icontains(wanted.q.strip(), autoescape=True))
    if wanted.certification is not None:
        on = wanted.certified_on
        held = sa.select(certifications.c.msme_id).where(
            certifications.c.msme_id == c.id,
            certifications.c.key == wanted.certification,
            certifications.c.valid_from <= on,
            certifications.c.valid_until >= on,
        )
        query = query.where(held.exists())
    if not principal.is_admin and principal.role is not Role.AGGREGATOR:
        query = query.where(sa.or_(c.status == "active", c.org == principal.org))
    if after is not None:
        query = query.where(c.id > after)
    rows = await fetch(pool, query)
    return BY_ID.page(rows, limit, lambda row: MsmeSummary(**dict(row)), lambda msme: (msme.id,))


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
        net_mass_kg=spec.net_mass_kg,
        capacity=[
            capacity_month(month, units, committed.get(month, 0))
            for month, units in sorted(product.capacity.items())
            if month >= first_month
        ],
        version=outcome.version,
    )


async def read_product(pool: asyncpg.Pool, product_id: UUID, *, first_month: str) -> ProductView:
    """A product and its capacity from ``first_month`` on, or 404."""
    async with pool.acquire() as connection:  # one connection for both reads: the pool resets it once
        row = await fetchrow(connection, lookup_statement(product_id))
        if row is None:
            raise NotFound(f"no product {product_id}")
        months = await capacity_months(connection, product_id, first_month)
    return product_from_row(row, months)


async def search_products(
    pool: asyncpg.Pool, principal: Principal, query: SearchQuery, *, today: date, this_month: str
) -> Page[ProductSummary]:
    """A page of the products matching ``query``; only aggregators (and admins) see suspended MSMEs' products."""
    if query.include_suspended:
        principal.require(Role.AGGREGATOR)
    search = product_search(query, today=today, this_month=this_month)
    async with pool.acquire() as connection:
        rows = await find_products(connection, search)
    return BY_ID.page(rows, query.limit, summary_from_row, lambda product: (product.id,))


RegionCode = Annotated[str, msgspec.Meta(pattern=r"^\d{2}\.\d{2}$")]
BY_CODE: Keyset[tuple[RegionCode]] = Keyset(tuple[RegionCode])


def find_regions(q: str | None, province: str | None, *, limit: int, cursor: str | None) -> Page[Region]:
    """Indonesia's regencies and cities in code order, filtered by part of their name and by province."""
    in_province = canonical_province(province) if province is not None else None
    if province is not None and in_province is None:
        raise InvalidInput.of("province", province_refusal())
    after = BY_CODE.decode(cursor)
    wanted = " ".join(q.casefold().split()) if q is not None else ""
    rows = [
        city
        for city in regencies()
        if (after is None or city.code > after[0])
        and (in_province is None or city.province == in_province)
        and (wanted in city.name.casefold() or wanted in city.regency.casefold())
    ]
    return BY_CODE.page(rows[: limit + 1], limit, region_from_city, lambda region: (region.code,))
