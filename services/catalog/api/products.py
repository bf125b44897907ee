"""Routes of products: read, update, declare monthly capacity, and search."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, get, patch, put
from litestar.params import FromPath, JSONBody, QueryParameter
from msgspec import UNSET

from services.catalog import commands
from services.catalog.api.bodies import CapacityBody, ProductPatch
from services.catalog.domain.product import DeclareCapacity, ProductChanges, UpdateProduct
from services.catalog.domain.rules import (
    canonical_province,
    is_month,
    month_of,
    months_between,
    next_month,
    normalise_hs_code,
)
from services.catalog.read.queries import capacity_months, product_from_outcome
from services.catalog.read.search import ProductSearch, find_products, lookup_statement, text_query
from services.catalog.read.views import ProductSummary, ProductView, product_from_row, summary_from_row
from services.catalog.standards import refuse_unknown_standards
from shared.api import (
    Caller,
    Context,
    Cursor,
    Limit,
    WaitFor,
    command_metadata,
    if_match,
    wait_for_position,
)
from shared.auth import Role
from shared.bounds import MAX_INTEGER, MAX_VERSION, documented
from shared.decider import UnitOfWork, run_command
from shared.errors import FieldError, InvalidInput, NotFound
from shared.geography import city_refusal, find_city, province_refusal
from shared.pages import BY_ID, Page
from shared.problems import problem_responses
from shared.sql import fetchrow
from shared.validation import is_digits


@get("/products/{product_id:uuid}", responses=problem_responses(401, 404, 422))
async def get_product(
    product_id: FromPath[UUID],
    principal: Caller,
    ctx: Context,
    wait_for: WaitFor = None,
) -> ProductView:
    """A product, its MSME's location, and capacity from this month on (declared, committed, available)."""
    await wait_for_position(ctx, wait_for)
    async with ctx.pool.acquire() as connection:  # one connection for both reads: the pool resets it once
        row = await fetchrow(connection, lookup_statement(product_id))
        if row is None:
            raise NotFound(f"no product {product_id}")
        months = await capacity_months(connection, product_id, month_of(ctx.clock.now()))
    return product_from_row(row, months)


def _changes(data: ProductPatch) -> ProductChanges:
    given = {f: getattr(data, f) for f in data.__struct_fields__ if getattr(data, f) is not UNSET}
    if "price_tiers" in given:
        given["price_tiers"] = [t.tier() for t in data.price_tiers or []]
    if "standards" in given:
        given["standards"] = [s.ref() for s in data.standards or []]
    if "origin_plots" in given:
        given["origin_plots"] = [p.plot() for p in data.origin_plots or []]
    return ProductChanges(**given)


@patch("/products/{product_id:uuid}", responses=problem_responses(400, 401, 403, 404, 409, 412, 415, 422))
async def update_product(
    product_id: FromPath[UUID],
    data: JSONBody[ProductPatch],
    request: Request[Any, Any, Any],
    principal: Caller,
    ctx: Context,
) -> ProductView:
    """Change a product (owner or admin); a new SKU must be free within the MSME."""
    expected = if_match(request)
    if data.standards is not UNSET:
        await refuse_unknown_standards(ctx, data.standards)
    now = ctx.clock.now()
    command = UpdateProduct(changes=_changes(data), at=now)

    async def work(unit: UnitOfWork) -> ProductView:
        outcome = await commands.update_product(unit, principal, product_id, command, expected)
        return await product_from_outcome(unit.connection, outcome, first_month=month_of(now))

    outcome = await run_command(ctx.store, work, metadata=command_metadata(request, principal))
    return msgspec.structs.replace(outcome.value, position=outcome.position)


@put("/products/{product_id:uuid}/capacity", responses=problem_responses(400, 401, 403, 404, 409, 412, 415, 422))
async def declare_capacity(
    product_id: FromPath[UUID],
    data: JSONBody[CapacityBody],
    request: Request[Any, Any, Any],
    principal: Caller,
    ctx: Context,
) -> ProductView:
    """Declare units per future month (``{"months": {"2027-02": 300}}``); months given replace earlier values."""
    expected = if_match(request)
    now = ctx.clock.now()
    command = DeclareCapacity(months=data.months, at=now)

    async def work(unit: UnitOfWork) -> ProductView:
        outcome = await commands.declare_capacity(unit, principal, product_id, command, expected)
        return await product_from_outcome(unit.connection, outcome, first_month=month_of(now))

    outcome = await run_command(ctx.store, work, metadata=command_metadata(request, principal))
    return msgspec.structs.replace(outcome.value, position=outcome.position)


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


Query = QueryParameter
# ``kind``, or ``other:<name>`` for another scheme (names are at most 200 characters)
CertificationKey = Annotated[str, msgspec.Meta(max_length=210), documented(max_length=210)]


@get("/products", responses=problem_responses(401, 403, 422))
async def search_products(
    principal: Caller,
    ctx: Context,
    hs: Annotated[str | None, Query(name="hs", max_length=16, description="HS code prefix")] = None,
    category: Annotated[str | None, Query(name="category", max_length=40)] = None,
    province: Annotated[str | None, Query(name="province", max_length=60)] = None,
    city: Annotated[str | None, Query(name="city", max_length=60)] = None,
    certification: Annotated[
        list[CertificationKey] | None, Query(name="certification", max_items=20, description="kind, repeatable")
    ] = None,
    certified_on: Annotated[date | None, Query(name="certified_on", description="default today")] = None,
    standard: Annotated[UUID | None, Query(name="standard")] = None,
    standard_version: Annotated[int | None, Query(name="standard_version", ge=1, le=MAX_VERSION)] = None,
    msme_id: Annotated[UUID | None, Query(name="msme_id")] = None,
    min_available: Annotated[
        int | None, Query(name="min_available", ge=0, le=MAX_INTEGER, schema_extra={"minimum": 0})
    ] = None,
    available_from: Annotated[str | None, Query(name="available_from", max_length=7, description="YYYY-MM")] = None,
    available_to: Annotated[str | None, Query(name="available_to", max_length=7, description="YYYY-MM")] = None,
    q: Annotated[str | None, Query(name="q", max_length=200, description="words, prefix-matched")] = None,
    include_suspended: Annotated[bool, Query(name="include_suspended")] = False,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[ProductSummary]:
    """Search products; filters combine. ``min_available`` is free capacity summed over the months
    ``available_from``..``available_to`` (default: next month). Ordered by product id, paged by ``cursor``."""
    if include_suspended:
        principal.require(Role.AGGREGATOR)
    now = ctx.clock.now()
    raw = SearchQuery(
        hs=hs,
        category=category,
        province=province,
        city=city,
        certification=[c.strip().lower() for c in certification or [] if c.strip()],
        certified_on=certified_on,
        standard=standard,
        standard_version=standard_version,
        msme_id=msme_id,
        min_available=min_available,
        available_from=available_from,
        available_to=available_to,
        q=q,
        include_suspended=include_suspended,
        cursor=cursor,
        limit=limit,
    )
    search = product_search(raw, today=now.date(), this_month=month_of(now))
    async with ctx.pool.acquire() as connection:
        rows = await find_products(connection, search)
    return BY_ID.page(rows, limit, summary_from_row, lambda product: (product.id,))
