"""Routes of an order's provenance: JSON, or CSV for an auditor (``provenance.csv`` or ``Accept: text/csv``)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import sqlalchemy as sa
from litestar import Request, Response, get
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath

from services.orders.domain.access import can_see
from services.orders.read.projections import decode_order, orders
from services.orders.read.provenance import assemble
from services.orders.read.provenance_csv import provenance_csv
from services.orders.read.provenance_queries import load_supply
from services.orders.read.provenance_views import OrderProvenance
from shared.api import Caller, Context, WaitFor, wait_for_position
from shared.auth import Principal, Role
from shared.errors import NotFound
from shared.problems import problem_responses
from shared.service import ServiceContext
from shared.sql import fetchrow

CSV = "text/csv"


async def _provenance(ctx: ServiceContext, principal: Principal, order_id: UUID) -> OrderProvenance:
    principal.require(Role.BUYER, Role.AGGREGATOR)
    row = await fetchrow(ctx.pool, sa.select(orders).where(orders.c.id == order_id))
    if row is None or not can_see(principal, row["buyer_org"], row["aggregator_org"], row["state"]):
        raise NotFound(f"no order {order_id}")
    return assemble(decode_order(row["document"]), await load_supply(ctx.pool, order_id))


def _csv(provenance: OrderProvenance) -> Response[Any]:
    return Response(
        provenance_csv(provenance),
        media_type=f"{CSV}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="order-{provenance.order_id}-provenance.csv"'},
    )


def _wants_csv(request: Request[Any, Any, Any]) -> bool:
    accepted = request.accept.best_match(["application/json", CSV], default="application/json")
    return accepted == CSV


_CSV_RESPONSE = {200: ResponseSpec(data_container=str, media_type=CSV, description="one row per order line and lot")}


@get("/orders/{order_id:uuid}/provenance", responses=problem_responses(401, 403, 404, 422))
async def order_provenance(
    order_id: FromPath[UUID], request: Request[Any, Any, Any], principal: Caller, ctx: Context, wait_for: WaitFor = None
) -> Response[OrderProvenance]:
    """Per line: consignments, lots, the MSMEs that made them (with certifications valid at delivery), the
    inspection verdicts with their sampling plans, and origin plots. ``Accept: text/csv`` gives the CSV."""
    await wait_for_position(ctx, wait_for)
    provenance = await _provenance(ctx, principal, order_id)
    return _csv(provenance) if _wants_csv(request) else Response(provenance)


@get("/orders/{order_id:uuid}/provenance.csv", responses={**_CSV_RESPONSE, **problem_responses(401, 403, 404, 422)})
async def order_provenance_csv(
    order_id: FromPath[UUID], principal: Caller, ctx: Context, wait_for: WaitFor = None
) -> Response[str]:
    """The provenance as a CSV file for an auditor: one row per order line and lot delivered for it."""
    await wait_for_position(ctx, wait_for)
    return _csv(await _provenance(ctx, principal, order_id))


PROVENANCE_ROUTES = [order_provenance, order_provenance_csv]
