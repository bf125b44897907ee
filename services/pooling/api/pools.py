"""Routes for pools: open, list, read, add demand, receive lots, ship."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from services.pooling.api.bodies import AddDemandBody, LotBody, OpenPoolBody, ShipBody
from services.pooling.domain.pool import pool_stream
from services.pooling.domain.pool_commands import OpenPool, ReceiveLot, Ship
from services.pooling.read import queries
from services.pooling.read.views import ConsignmentView, LotView, PoolSummary, PoolView, lot_view, pool_view
from services.pooling.use_cases import pools
from services.pooling.use_cases.access import visible_pool
from shared.api import (
    Caller,
    Context,
    Cursor,
    Limit,
    WaitFor,
    command_metadata,
    idempotent,
    if_match,
    stored_answer,
    wait_for_position,
)
from shared.auth import Role
from shared.eventstore import Connection
from shared.guards import Scope, allow
from shared.kernel.ids import new_id
from shared.pages import BY_ID, Page
from shared.problems import problem_responses


def _actor(principal: Any) -> str:
    return f"{principal.role.value}:{principal.sub}"


@post("/pools", guards=[allow(Role.AGGREGATOR, scope=Scope.POOLS_WRITE)])
async def open_pool(
    data: JSONBody[OpenPoolBody], request: Request[Any, Any, Any], principal: Caller, ctx: Context
) -> Response[PoolView]:
    """Open a pool for one product spec and standard version, consolidated at one port or city."""
    command = OpenPool(
        pool_id=new_id(),
        aggregator_org=principal.org,
        name=data.name,
        hs_code=data.hs_code,
        standard_id=data.standard_id,
        standard_version=data.standard_version,
        unit=data.unit,
        currency=data.currency,
        consolidation_point=data.consolidation_point,
        required_by=data.required_by,
        by=_actor(principal),
        at=ctx.clock.now(),
        inspector_orgs=tuple(data.inspector_orgs),
    )
    opened, metadata = await pools.opening(ctx.pool, command), command_metadata(request, principal)

    async def work(connection: Connection | None) -> tuple[int, PoolView]:
        outcome = await pools.open_pool(ctx.store, opened, metadata=metadata, connection=connection)
        return 201, pool_view(outcome.value[0], 1, outcome.position)

    return stored_answer(await idempotent(ctx, request, principal, work), PoolView)


@get("/pools", guards=[allow(Role.AGGREGATOR, scope=Scope.POOLS_READ)])
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
    await wait_for_position(ctx, wait_for)
    after = BY_ID.decode(cursor)
    org = None if principal.is_admin else principal.org
    rows = await queries.pool_rows(ctx.pool, org=org, status=status, after=after[0] if after else None, limit=limit)
    return BY_ID.page(rows, limit, _summary, lambda pool: (pool.id,))


def _summary(row: Any) -> PoolSummary:
    return PoolSummary(**{f: row[f] for f in PoolSummary.__struct_fields__ if f != "id"}, id=row["pool_id"])


@get("/pools/{pool_id:uuid}", guards=[allow(Role.AGGREGATOR, scope=Scope.POOLS_READ)])
async def get_pool(pool_id: FromPath[UUID], principal: Caller, ctx: Context) -> PoolView:
    """A pool with its demand by order line, supply by MSME, lots and the MSMEs it set aside."""
    state, version = await visible_pool(ctx, principal, pool_id)
    return pool_view(state, version)


@post(
    "/pools/{pool_id:uuid}/demand",
    guards=[allow(Role.AGGREGATOR, scope=Scope.POOLS_WRITE)],
    responses=problem_responses(409, 412),
)
async def add_pool_demand(
    pool_id: FromPath[UUID],
    data: JSONBody[AddDemandBody],
    request: Request[Any, Any, Any],
    principal: Caller,
    ctx: Context,
) -> Response[PoolView]:
    """Add a confirmed order line (quoted by this aggregator, same HS code, standard version and unit)."""
    outcome = await pools.add_order_line(
        ctx, principal, pool_id, data.order_id, data.line_id, expected=if_match(request), by=_actor(principal),
        at=ctx.clock.now(), metadata=command_metadata(request, principal),
    )  # fmt: skip
    after, loaded = outcome.value
    version = outcome.versions.get(pool_stream(pool_id), loaded)
    return Response(pool_view(after, version, outcome.position), status_code=201)


@post(
    "/pools/{pool_id:uuid}/lots",
    guards=[allow(Role.AGGREGATOR, Role.MSME, scope=Scope.LOTS_DELIVER)],
    responses=problem_responses(409),
)
async def receive_lot(
    pool_id: FromPath[UUID],
    data: JSONBody[LotBody],
    request: Request[Any, Any, Any],
    principal: Caller,
    ctx: Context,
) -> Response[LotView]:
    """Record a lot an MSME delivered; quality inspects it by its ``lot_id``."""
    lot_id = new_id()
    command = ReceiveLot(
        lot_id, data.msme_id, data.product_id, data.quantity, data.lot_code, data.delivered_on,
        _actor(principal), ctx.clock.now(), plot_ids=tuple(data.plot_ids) if data.plot_ids is not None else None,
    )  # fmt: skip
    outcome = await pools.receive_lot(ctx, principal, pool_id, command, metadata=command_metadata(request, principal))
    view = lot_view(outcome.value[0].lots[lot_id])
    return Response(view, status_code=201, headers={"Location": f"/v1/pools/{pool_id}"})


@post(
    "/pools/{pool_id:uuid}/ship",
    guards=[allow(Role.AGGREGATOR, scope=Scope.POOLS_WRITE)],
    responses=problem_responses(409, 412),
)
async def ship_pool(
    pool_id: FromPath[UUID],
    data: JSONBody[ShipBody],
    request: Request[Any, Any, Any],
    principal: Caller,
    ctx: Context,
) -> Response[ConsignmentView]:
    """Ship the consignment: every lot that passed inspection and is not shipped yet, with its packages, freight
    and insurance if stated."""
    packages, freight, insurance = data.costs()
    command = Ship(
        new_id(), data.partial, data.consent_reference, _actor(principal), ctx.clock.now(), packages, freight, insurance
    )
    outcome = await pools.ship(
        ctx, principal, pool_id, command, expected=if_match(request), metadata=command_metadata(request, principal)
    )
    after, shipped = outcome.value
    view = ConsignmentView(
        id=shipped.consignment_id,
        pool_id=pool_id,
        quantity=shipped.quantity,
        partial=shipped.partial,
        lots=shipped.lots,
        packages=shipped.packages,
        freight=shipped.freight,
        insurance=shipped.insurance,
        pool=pool_view(after, outcome.versions[pool_stream(pool_id)], outcome.position),
    )
    return Response(view, status_code=201)


ROUTES = [open_pool, list_pools, get_pool, add_pool_demand, receive_lot, ship_pool]
