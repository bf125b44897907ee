"""Routes of products: read, update, declare monthly capacity, and search."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, get, patch, put
from litestar.params import FromPath, JSONBody, QueryParameter

from services.catalog import commands
from services.catalog.api.bodies import CapacityBody, CertificationKey, ProductPatch
from services.catalog.domain.product import DeclareCapacity, UpdateProduct
from services.catalog.read import queries
from services.catalog.read.search import SearchQuery
from services.catalog.read.views import ProductSummary, ProductView
from shared.api import Caller, Context, Cursor, Limit, WaitFor, command_metadata, if_match, wait_for_position
from shared.auth import Role
from shared.bounds import MAX_INTEGER, MAX_VERSION
from shared.decider import UnitOfWork, run_command
from shared.guards import Scope, allow
from shared.kernel.months import month_of
from shared.pages import Page
from shared.problems import problem_responses


@get("/products/{product_id:uuid}", guards=[allow(scope=Scope.CATALOG_READ)])
async def get_product(
    product_id: FromPath[UUID],
    principal: Caller,
    ctx: Context,
    wait_for: WaitFor = None,
) -> ProductView:
    """A product, its MSME's location, and capacity from this month on (declared, committed, available)."""
    await wait_for_position(ctx, wait_for)
    return await queries.read_product(ctx.pool, product_id, first_month=month_of(ctx.clock.now()))


@patch(
    "/products/{product_id:uuid}",
    guards=[allow(Role.MSME, Role.AGGREGATOR, scope=Scope.CATALOG_WRITE)],
    responses=problem_responses(409, 412),
)
async def update_product(
    product_id: FromPath[UUID],
    data: JSONBody[ProductPatch],
    request: Request[Any, Any, Any],
    principal: Caller,
    ctx: Context,
) -> ProductView:
    """Change a product (owner or admin); a new SKU must be free within the MSME."""
    expected = if_match(request)
    now = ctx.clock.now()
    command = UpdateProduct(changes=data.changes(), at=now)
    await commands.check_update(ctx.store, principal, product_id, command)

    async def work(unit: UnitOfWork) -> ProductView:
        outcome = await commands.update_product(unit, principal, product_id, command, expected)
        return await queries.product_from_outcome(unit.connection, outcome, first_month=month_of(now))

    outcome = await run_command(ctx.store, work, metadata=command_metadata(request, principal))
    return msgspec.structs.replace(outcome.value, position=outcome.position)


@put(
    "/products/{product_id:uuid}/capacity",
    guards=[allow(Role.MSME, Role.AGGREGATOR, scope=Scope.CATALOG_WRITE)],
    responses=problem_responses(409, 412),
)
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
        return await queries.product_from_outcome(unit.connection, outcome, first_month=month_of(now))

    outcome = await run_command(ctx.store, work, metadata=command_metadata(request, principal))
    return msgspec.structs.replace(outcome.value, position=outcome.position)


Query = QueryParameter


@get("/products", guards=[allow(scope=Scope.CATALOG_READ)])
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
    return await queries.search_products(ctx.pool, principal, raw, today=now.date(), this_month=month_of(now))
