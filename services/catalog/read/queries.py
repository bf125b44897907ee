"""Reads of the catalog's read model: an MSME's profile, a product and its capacity by month, product search."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import asyncpg
import msgspec
import sqlalchemy as sa

from events.catalog import Contact
from services.catalog.commands import ProductOutcome
from services.catalog.domain.rules import (
    canonical_province,
    eudr_commodity,
    is_month,
    months_between,
    next_month,
    normalise_hs_code,
)
from services.catalog.read.search import ProductSearch, find_products, lookup_statement, text_query
from services.catalog.read.tables import capacity, certifications, commitments, msmes, products
from services.catalog.read.views import (
    CapacityMonth,
    CertificationView,
    MsmeView,
    ProductSummary,
    ProductView,
    capacity_month,
    product_from_row,
    sees_contact,
    summary_from_row,
)
from shared.auth import Principal, Role
from shared.errors import FieldError, InvalidInput, NotFound
from shared.eventstore import Connection
from shared.geography import city_refusal, find_city, province_refusal
from shared.pages import BY_ID, Page
from shared.sql import fetch, fetchrow
from shared.validation import is_digits

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


async def read_product(pool: asyncpg.Pool, product_id: UUID, *, first_month: str) -> ProductView:
    """A product and its capacity from ``first_month`` on, or 404."""
    async with pool.acquire() as connection:  # one connection for both reads: the pool resets it once
        row = await fetchrow(connection, lookup_statement(product_id))
        if row is None:
            raise NotFound(f"no product {product_id}")
        months = await capacity_months(connection, product_id, first_month)
    return product_from_row(row, months)


class SearchQuery(msgspec.Struct, frozen=True, kw_only=True):
    """The raw query parameters of a product search, before they are checked and normalised."""

    hs: str | None
    category: str | None
    province: str | None
    city: str | None
    certification: list[str]
    certified_on: date | None
    standard: UUID | None
    standard_version: int | None
    msme_id: UUID | None
    min_available: int | None
    available_from: str | None
    available_to: str | None
    q: str | None
    include_suspended: bool
    cursor: str | None
    limit: int


def product_search(query: SearchQuery, *, today: date, this_month: str) -> ProductSearch:
    """Normalise a search (``Solo`` → ``Surakarta``, ``46.02`` → ``4602``) or name every bad parameter."""
    errors: list[FieldError] = []
    hs = normalise_hs_code(query.hs) if query.hs is not None else None
    if hs is not None and not (is_digits(hs) and 2 <= len(hs) <= 10):
        errors.append(FieldError("hs", "must be an HS code prefix of 2 to 10 digits"))
    province = canonical_province(query.province) if query.province is not None else None
    if query.province is not None and province is None:
        errors.append(FieldError("province", province_refusal()))
    city = find_city(query.city) if query.city is not None else None
    if query.city is not None and city is None:
        errors.append(FieldError("city", city_refusal(query.city)))
    if query.standard_version is not None and query.standard is None:
        errors.append(FieldError("standard_version", "needs standard"))
    standard = str(query.standard) if query.standard else None
    if standard and query.standard_version is not None:
        standard = f"{standard}@{query.standard_version}"
    first = query.available_from or next_month(this_month)
    last = query.available_to or first
    for name, month in (("available_from", query.available_from), ("available_to", query.available_to)):
        if month is not None and not is_month(month):
            errors.append(FieldError(name, "must be a month, YYYY-MM"))
    if not errors and months_between(first, last) < 0:
        errors.append(FieldError("available_to", "must not be before available_from"))
    if query.q is not None and text_query(query.q) is None:
        errors.append(FieldError("q", "needs at least one word"))
    after_id: UUID | None = None
    try:
        after = BY_ID.decode(query.cursor)
        after_id = after[0] if after else None
    except InvalidInput as error:
        errors.extend(error.errors)
    if errors:
        raise InvalidInput(errors)
    return ProductSearch(
        hs_prefix=hs,
        category=query.category.lower() if query.category else None,
        province=province,
        city=city.name if city else None,
        certifications=tuple(query.certification),
        certified_on=query.certified_on or today,
        standard=standard,
        msme_id=query.msme_id,
        min_available=query.min_available,
        available_from=first,
        available_to=last,
        text=query.q,
        include_suspended=query.include_suspended,
        after=after_id,
        limit=query.limit,
    )


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
