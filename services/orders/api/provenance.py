"""Routes of an order's provenance: JSON, or CSV for an auditor (``provenance.csv`` or ``Accept: text/csv``)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, Response, get
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath

from services.orders.read.provenance_csv import provenance_csv
from services.orders.read.provenance_queries import provenance_of
from services.orders.read.provenance_views import OrderProvenance
from shared.api import Caller, Context, WaitFor, wait_for_position
from shared.auth import Role
from shared.guards import Scope, allow

CSV = "text/csv"


def _csv(provenance: OrderProvenance) -> Response[Any]:
    return Response(
        provenance_csv(provenance),
        media_type=f"{CSV}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="order-{provenance.order_id}-provenance.csv"'},
    )


def _wants_csv(request: Request[Any, Any, Any]) -> bool:
    accepted = request.accept.best_match(["application/json", CSV], default="application/json")
    return accepted == CSV


BOTH = [allow(Role.BUYER, Role.AGGREGATOR, scope=Scope.ORDERS_READ)]
_CSV_RESPONSE = {200: ResponseSpec(data_container=str, media_type=CSV, description="one row per order line and lot")}


@get("/orders/{order_id:uuid}/provenance", guards=BOTH)
async def order_provenance(
    order_id: FromPath[UUID], request: Request[Any, Any, Any], principal: Caller, ctx: Context, wait_for: WaitFor = None
) -> Response[OrderProvenance]:
    """Per line: consignments, lots, the MSMEs that made them (with certifications valid at delivery), the
    inspection verdicts with their sampling plans, and origin plots. ``Accept: text/csv`` gives the CSV."""
    await wait_for_position(ctx, wait_for)
    provenance = await provenance_of(ctx.pool, principal, order_id)
    return _csv(provenance) if _wants_csv(request) else Response(provenance)


@get("/orders/{order_id:uuid}/provenance.csv", guards=BOTH, responses=_CSV_RESPONSE)
async def order_provenance_csv(
    order_id: FromPath[UUID], principal: Caller, ctx: Context, wait_for: WaitFor = None
) -> Response[str]:
    """The provenance as a CSV file for an auditor: one row per order line and lot delivered for it."""
    await wait_for_position(ctx, wait_for)
    return _csv(await provenance_of(ctx.pool, principal, order_id))


PROVENANCE_ROUTES = [order_provenance, order_provenance_csv]
