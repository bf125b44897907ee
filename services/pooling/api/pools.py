"""Routes for pools: open, list, read, add demand, receive lots, ship."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

import msgspec
import sqlalchemy as sa
from litestar import Request, Response, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from events.pooling import ConsignmentShipped
from services.pooling.domain.order_demand import order_demand_stream
from services.pooling.domain.pool import POOL, pool_stream
from services.pooling.domain.pool_commands import OpenPool, ReceiveLot, Ship
from services.pooling.domain.pool_state import Pool
from services.pooling.read.tables import PUBLISHED_STANDARDS, order_lines, pools
from services.pooling.read.views import ConsignmentView, LotView, PoolSummary, PoolView, pool_view
from services.pooling.use_cases.access import load_pool, supplier_or_owner, visible_pool
from services.pooling.use_cases.supply import ConfirmedLine, add_demand
from shared.api import (
    Caller,
    Context,
    Cursor,
    Limit,
    WaitFor,
    check_version,
    command_metadata,
    idempotent,
    if_match,
    wait_for_position,
)
from shared.auth import Role
from shared.bounds import Currency, Quantity, Version, documented
from shared.decider import UnitOfWork, run_command
from shared.errors import Conflict, FieldError, InvalidInput, NotFound
from shared.eventstore import Connection
from shared.geography import city_refusal, find_place
from shared.ids import new_id
from shared.pages import BY_ID, Page
from shared.problems import problem_responses
from shared.published_standards import StandardUse
from shared.sql import fetch, fetchrow


class OpenPoolBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    hs_code: Annotated[str, msgspec.Meta(pattern=r"^\d{4,10}$", max_length=10, description="HS code, 4 to 10 digits")]
    standard_id: UUID
    standard_version: Version
    unit: Annotated[
        str, msgspec.Meta(pattern=r"^[A-Z0-9]{1,8}$", max_length=8, description="UN/ECE unit code, e.g. PCE")
    ]
    currency: Currency
    consolidation_point: Annotated[
        str, msgspec.Meta(min_length=2, max_length=100, description="a port (UN/LOCODE or name) or city")
    ]
    required_by: date | None = None
    inspector_orgs: Annotated[
        list[Annotated[str, msgspec.Meta(min_length=1, max_length=100), documented(max_length=100)]],
        msgspec.Meta(max_length=20, description="third-party inspection organisations whose verdicts count"),
    ] = []


class AddDemandBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    order_id: UUID
    line_id: UUID


class LotBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    msme_id: UUID
    product_id: UUID | None = None
    quantity: Quantity
    lot_code: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    delivered_on: date


class ShipBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    partial: bool = False
    consent_reference: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None


def _actor(principal: Any) -> str:
    return f"{principal.role.value}:{principal.sub}"


@post("/pools", responses=problem_responses(400, 401, 403, 415, 422))
async def open_pool(
    data: JSONBody[OpenPoolBody], request: Request[Any, Any, Any], principal: Caller, ctx: Context
) -> Response[Any]:
    """Open a pool for one product spec and standard version, consolidated at one port or city."""
    principal.require(Role.AGGREGATOR)
    standard = StandardUse(data.standard_id, data.standard_version, "standard_id", "standard_version")
    errors = await PUBLISHED_STANDARDS.refusals(ctx.pool, [standard])
    place = find_place(data.consolidation_point)
    if place is None:
        message = "is not an Indonesian port Gotong knows (a UN/LOCODE such as IDSRG, or its name) nor a city: "
        errors.append(FieldError("consolidation_point", message + city_refusal(data.consolidation_point)))
    if errors or place is None:
        raise InvalidInput(errors)
    pool_id = new_id()
    command = OpenPool(
        pool_id=pool_id,
        aggregator_org=principal.org,
        name=data.name,
        hs_code=data.hs_code,
        standard_id=data.standard_id,
        standard_version=data.standard_version,
        unit=data.unit,
        currency=data.currency,
        consolidation_point=place.locode or place.name,
        required_by=data.required_by,
        by=_actor(principal),
        at=ctx.clock.now(),
        inspector_orgs=tuple(data.inspector_orgs),
    )

    async def work(connection: Connection | None) -> tuple[int, PoolView]:
        outcome = await run_command(
            ctx.store,
            lambda unit: unit.execute(POOL, pool_stream(pool_id), command),
            metadata=command_metadata(request, principal),
            connection=connection,
        )
        return 201, pool_view(outcome.value[0], 1, outcome.position)

    stored = await idempotent(ctx, request, principal, work)
    return Response(content=stored.body, status_code=stored.status, media_type="application/json")


@get("/pools", responses=problem_responses(401, 403, 422))
async def list_pools(
    principal: Caller,
    ctx: Context,
    status: Annotated[
        str | None, QueryParameter(name="status", pattern="^(open|filled|shipped)$", max_length=7)
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
    wait_for: WaitFor = None,
) -> Page[PoolSummary]:
    """The caller's organisation's pools, oldest first."""
    principal.require(Role.AGGREGATOR)
    await wait_for_position(ctx, wait_for)
    query = sa.select(pools).order_by(pools.c.pool_id).limit(limit + 1)
    if not principal.is_admin:
        query = query.where(pools.c.aggregator_org == principal.org)
    if status is not None:
        query = query.where(pools.c.status == status)
    after = BY_ID.decode(cursor)
    if after is not None:
        query = query.where(pools.c.pool_id > after[0])
    rows = await fetch(ctx.pool, query)
    return BY_ID.page(rows, limit, _summary, lambda pool: (pool.id,))


def _summary(row: Any) -> PoolSummary:
    return PoolSummary(**{f: row[f] for f in PoolSummary.__struct_fields__ if f != "id"}, id=row["pool_id"])


@get("/pools/{pool_id:uuid}", responses=problem_responses(401, 403, 404))
async def get_pool(pool_id: FromPath[UUID], principal: Caller, ctx: Context) -> PoolView:
    """A pool with its demand by order line, supply by MSME, lots and the MSMEs it set aside."""
    principal.require(Role.AGGREGATOR)
    state, version = await visible_pool(ctx, principal, pool_id)
    return pool_view(state, version)


@post("/pools/{pool_id:uuid}/demand", responses=problem_responses(400, 401, 403, 404, 409, 412, 415, 422))
async def add_pool_demand(
    pool_id: FromPath[UUID],
    data: JSONBody[AddDemandBody],
    request: Request[Any, Any, Any],
    principal: Caller,
    ctx: Context,
) -> Response[Any]:
    """Add a confirmed order line (quoted by this aggregator, same HS code, standard version and unit)."""
    principal.require(Role.AGGREGATOR)
    expected = if_match(request)
    state, _ = await visible_pool(ctx, principal, pool_id)
    row = await fetchrow(ctx.pool, sa.select(order_lines).where(order_lines.c.line_id == data.line_id))
    if row is None or row["order_id"] != data.order_id or row["aggregator_org"] != state.aggregator_org:
        raise NotFound(f"no confirmed order line {data.line_id} of order {data.order_id} quoted by this aggregator")
    if row["cancelled"]:
        raise Conflict("the order was cancelled", problem="illegal-transition", state="cancelled")
    line = ConfirmedLine(**{f: row[f] for f in ConfirmedLine.__dataclass_fields__})
    at = ctx.clock.now()

    async def work(unit: UnitOfWork) -> tuple[Pool, int]:
        await unit.load(POOL, pool_stream(pool_id))
        check_version(expected, await unit.version(pool_stream(pool_id)))
        after, _ = await add_demand(unit, pool_id, line, by=_actor(principal), at=at)
        return after, await unit.version(pool_stream(pool_id))

    streams = [order_demand_stream(line.order_id), pool_stream(pool_id)]
    outcome = await run_command(ctx.store, work, metadata=command_metadata(request, principal), lock_streams=streams)
    after, loaded = outcome.value
    version = outcome.versions.get(pool_stream(pool_id), loaded)
    return Response(pool_view(after, version, outcome.position), status_code=201)


@post("/pools/{pool_id:uuid}/lots", responses=problem_responses(400, 401, 403, 404, 409, 415, 422))
async def receive_lot(
    pool_id: FromPath[UUID],
    data: JSONBody[LotBody],
    request: Request[Any, Any, Any],
    principal: Caller,
    ctx: Context,
) -> Response[Any]:
    """Record a lot an MSME delivered; quality inspects it by its ``lot_id``."""
    principal.require(Role.AGGREGATOR, Role.MSME)
    state, _ = await load_pool(ctx, pool_id)
    if not state.exists:
        raise NotFound(f"no pool {pool_id}")
    await supplier_or_owner(ctx, principal, state, data.msme_id)
    lot_id = new_id()
    command = ReceiveLot(
        lot_id, data.msme_id, data.product_id, data.quantity, data.lot_code, data.delivered_on,
        _actor(principal), ctx.clock.now(),
    )  # fmt: skip
    outcome = await run_command(
        ctx.store,
        lambda unit: unit.execute(POOL, pool_stream(pool_id), command),
        metadata=command_metadata(request, principal),
        lock_streams=[pool_stream(pool_id)],
    )
    after = outcome.value[0]
    lot = after.lots[lot_id]
    view = LotView(
        lot_id=lot_id,
        msme_id=lot.msme_id,
        product_id=lot.product_id,
        lot_code=lot.lot_code,
        quantity=lot.quantity,
        status=lot.status,
        shipped=lot.shipped,
    )
    return Response(view, status_code=201, headers={"Location": f"/v1/pools/{pool_id}"})


@post("/pools/{pool_id:uuid}/ship", responses=problem_responses(400, 401, 403, 404, 409, 412, 415, 422))
async def ship_pool(
    pool_id: FromPath[UUID],
    data: JSONBody[ShipBody],
    request: Request[Any, Any, Any],
    principal: Caller,
    ctx: Context,
) -> Response[Any]:
    """Ship the consignment: every lot that passed inspection and is not shipped yet."""
    principal.require(Role.AGGREGATOR)
    expected = if_match(request)
    await visible_pool(ctx, principal, pool_id)
    command = Ship(new_id(), data.partial, data.consent_reference, _actor(principal), ctx.clock.now())

    async def work(unit: UnitOfWork) -> tuple[Pool, ConsignmentShipped]:
        await unit.load(POOL, pool_stream(pool_id))
        check_version(expected, await unit.version(pool_stream(pool_id)))
        after, events = await unit.execute(POOL, pool_stream(pool_id), command)
        (shipped,) = [e for e in events if isinstance(e, ConsignmentShipped)]
        return after, shipped

    outcome = await run_command(
        ctx.store, work, metadata=command_metadata(request, principal), lock_streams=[pool_stream(pool_id)]
    )
    after, shipped = outcome.value
    view = ConsignmentView(
        id=shipped.consignment_id,
        pool_id=pool_id,
        quantity=shipped.quantity,
        partial=shipped.partial,
        lots=shipped.lots,
        pool=pool_view(after, outcome.versions[pool_stream(pool_id)], outcome.position),
    )
    return Response(view, status_code=201)


ROUTES = [open_pool, list_pools, get_pool, add_pool_demand, receive_lot, ship_pool]
