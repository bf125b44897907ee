"""Routes for allocation requests (MSMEs answer their own) and for demand no pool matched."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
import sqlalchemy as sa
from litestar import Request, Response, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from events.common import Money
from events.pooling import MonthQuantity
from services.pooling.domain.allocation_request import AllocationRequest, request_stream
from services.pooling.read.tables import allocation_requests, unmatched_demand
from services.pooling.read.views import RequestView, UnmatchedView
from services.pooling.use_cases import allocation_requests as answers
from services.pooling.use_cases.access import answering_for, owned_msmes, visible_request
from shared.api import (
    Caller,
    Context,
    Cursor,
    Limit,
    WaitFor,
    command_metadata,
    wait_for_position,
)
from shared.auth import Principal, Role
from shared.bounds import Quantity
from shared.errors import NotFound
from shared.pages import BY_ID, Page
from shared.problems import problem_responses
from shared.service import ServiceContext
from shared.sql import fetch, fetchrow

_plan = msgspec.json.Decoder(list[MonthQuantity])
_money = msgspec.json.Decoder(Money)
Status = Annotated[
    str | None, QueryParameter(name="status", pattern="^(pending|accepted|declined|expired|withdrawn)$", max_length=9)
]


class AcceptBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Accept all (no quantity) or part of the request; a part keeps the earliest months of the plan."""

    quantity: Quantity | None = None


class DeclineBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


def request_view(row: Any) -> RequestView:
    return RequestView(
        id=row["request_id"],
        pool_id=row["pool_id"],
        aggregator_org=row["aggregator_org"],
        msme_id=row["msme_id"],
        product_id=row["product_id"],
        hs_code=row["hs_code"],
        unit=row["unit"],
        quantity=row["quantity"],
        plan=_plan.decode(row["plan"]),
        unit_price=_money.decode(row["unit_price"]),
        status=row["status"],
        reason=row["reason"],
        accepted=row["accepted"],
        accepted_plan=_plan.decode(row["accepted_plan"]),
        answer=row["answer"],
        expires_at=row["expires_at"],
        requested_at=row["requested_at"],
        answered_at=row["answered_at"],
        version=row["version"],
    )


async def _scope(ctx: ServiceContext, principal: Principal, query: Any) -> Any:
    c = allocation_requests.c
    if principal.is_admin:
        return query
    if principal.role is Role.AGGREGATOR:
        return query.where(c.aggregator_org == principal.org)
    return query.where(c.msme_id.in_(sorted(await owned_msmes(ctx, principal))))


@get("/allocation-requests", responses=problem_responses(401, 403, 422))
async def list_requests(
    principal: Caller,
    ctx: Context,
    status: Status = None,
    pool_id: Annotated[UUID | None, QueryParameter(name="pool_id")] = None,
    msme_id: Annotated[UUID | None, QueryParameter(name="msme_id")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
    wait_for: WaitFor = None,
) -> Page[RequestView]:
    """An MSME user's requests (of the MSMEs its organisation owns), or an aggregator's pools' requests."""
    principal.require(Role.MSME, Role.AGGREGATOR)
    await wait_for_position(ctx, wait_for)
    c = allocation_requests.c
    query = await _scope(ctx, principal, sa.select(allocation_requests).order_by(c.request_id).limit(limit + 1))
    for column, value in ((c.status, status), (c.pool_id, pool_id), (c.msme_id, msme_id)):
        if value is not None:
            query = query.where(column == value)
    after = BY_ID.decode(cursor)
    if after is not None:
        query = query.where(c.request_id > after[0])
    rows = await fetch(ctx.pool, query)
    return BY_ID.page(rows, limit, request_view, lambda request: (request.id,))


@get("/allocation-requests/{request_id:uuid}", responses=problem_responses(401, 403, 404, 422))
async def get_request(
    request_id: FromPath[UUID], principal: Caller, ctx: Context, wait_for: WaitFor = None
) -> RequestView:
    principal.require(Role.MSME, Role.AGGREGATOR)
    await visible_request(ctx, principal, request_id)
    await wait_for_position(ctx, wait_for)
    row = await fetchrow(ctx.pool, sa.select(allocation_requests).where(allocation_requests.c.request_id == request_id))
    if row is None:
        raise NotFound(f"no allocation request {request_id} yet; retry with ?wait_for_position=")
    return request_view(row)


def _answered(state: AllocationRequest, request_id: UUID, version: int, position: int) -> dict[str, Any]:
    return {
        "id": str(request_id),
        "status": state.status,
        "quantity": state.quantity,
        "accepted": state.accepted,
        "accepted_plan": [{"month": m.month, "quantity": m.quantity} for m in state.accepted_plan],
        "version": version,
        "position": position,
    }


@post("/allocation-requests/{request_id:uuid}/accept", responses=problem_responses(400, 401, 403, 404, 409, 415, 422))
async def accept_request(
    request_id: FromPath[UUID],
    data: JSONBody[AcceptBody],
    request: Request[Any, Any, Any],
    principal: Caller,
    ctx: Context,
) -> Response[Any]:
    """Accept all or part; books the pool and the capacity ledgers at once, or refuses with 409 (over-allocation
    or over-capacity)."""
    principal.require(Role.MSME)
    outcome = await answers.accept(
        ctx.store, request_id, data.quantity, answering_for=await answering_for(ctx, principal),
        by=f"{principal.role.value}:{principal.sub}", at=ctx.clock.now(), metadata=command_metadata(request, principal),
    )  # fmt: skip
    version = outcome.versions[request_stream(request_id)]
    return Response(_answered(outcome.value, request_id, version, outcome.position), status_code=200)


@post("/allocation-requests/{request_id:uuid}/decline", responses=problem_responses(400, 401, 403, 404, 409, 415, 422))
async def decline_request(
    request_id: FromPath[UUID],
    data: JSONBody[DeclineBody],
    request: Request[Any, Any, Any],
    principal: Caller,
    ctx: Context,
) -> Response[Any]:
    """Decline with a reason; the pool re-allocates the units to other MSMEs."""
    principal.require(Role.MSME)
    await visible_request(ctx, principal, request_id)
    outcome = await answers.decline(
        ctx.store, request_id, data.reason, by=f"{principal.role.value}:{principal.sub}", at=ctx.clock.now(),
        metadata=command_metadata(request, principal),
    )  # fmt: skip
    version = outcome.versions[request_stream(request_id)]
    return Response(_answered(outcome.value, request_id, version, outcome.position), status_code=200)


@get("/unmatched-demand", responses=problem_responses(401, 403, 422))
async def list_unmatched(
    principal: Caller, ctx: Context, limit: Limit = 50, cursor: Cursor = None, wait_for: WaitFor = None
) -> Page[UnmatchedView]:
    """Confirmed order lines quoted by the caller's organisation that no open pool matched."""
    principal.require(Role.AGGREGATOR)
    await wait_for_position(ctx, wait_for)
    c = unmatched_demand.c
    query = sa.select(unmatched_demand).order_by(c.line_id).limit(limit + 1)
    if not principal.is_admin:
        query = query.where(c.aggregator_org == principal.org)
    after = BY_ID.decode(cursor)
    if after is not None:
        query = query.where(c.line_id > after[0])
    rows = await fetch(ctx.pool, query)
    return BY_ID.page(
        rows, limit, lambda row: UnmatchedView(**{f: row[f] for f in UnmatchedView.__struct_fields__}), _by_line
    )


def _by_line(demand: UnmatchedView) -> tuple[UUID]:
    return (demand.line_id,)


ROUTES = [list_requests, get_request, accept_request, decline_request, list_unmatched]
