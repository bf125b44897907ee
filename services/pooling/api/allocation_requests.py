"""Routes for allocation requests (MSMEs answer their own) and for demand no pool matched."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from events.common import Money
from events.pooling import MonthQuantity
from services.pooling.api.bodies import AcceptBody, DeclineBody
from services.pooling.domain.allocation_request import request_stream
from services.pooling.read import queries
from services.pooling.read.allocation_views import AnswerView, RequestView, UnmatchedView, answer_view, request_view
from services.pooling.use_cases.access import answering_for, requests_seen_by, visible_request
from services.pooling.use_cases.allocation_requests import accept, decline
from shared.api import (
    Caller,
    Context,
    Cursor,
    Limit,
    WaitFor,
    command_metadata,
    wait_for_position,
)
from shared.auth import Role
from shared.guards import Scope, allow
from shared.kernel.errors import NotFound
from shared.pages import BY_ID, Page
from shared.problems import problem_responses

_plan = msgspec.json.Decoder(list[MonthQuantity])
_money = msgspec.json.Decoder(Money)
Status = Annotated[
    str | None, QueryParameter(name="status", pattern="^(pending|accepted|declined|expired|withdrawn)$", max_length=9)
]


@get("/allocation-requests", guards=[allow(Role.MSME, Role.AGGREGATOR, scope=Scope.REQUESTS_READ)])
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
    await wait_for_position(ctx, wait_for)
    after = BY_ID.decode(cursor)
    org, msmes = await requests_seen_by(ctx, principal)
    rows = await queries.request_rows(
        ctx.pool, org=org, msmes=msmes, status=status, pool_id=pool_id, msme_id=msme_id,
        after=after[0] if after else None, limit=limit,
    )  # fmt: skip
    return BY_ID.page(rows, limit, request_view, lambda request: (request.id,))


@get(
    "/allocation-requests/{request_id:uuid}",
    guards=[allow(Role.MSME, Role.AGGREGATOR, scope=Scope.REQUESTS_READ)],
)
async def get_request(
    request_id: FromPath[UUID], principal: Caller, ctx: Context, wait_for: WaitFor = None
) -> RequestView:
    await visible_request(ctx, principal, request_id)
    await wait_for_position(ctx, wait_for)
    row = await queries.request_row(ctx.pool, request_id)
    if row is None:
        raise NotFound(f"no allocation request {request_id} yet; retry with ?wait_for_position=")
    return request_view(row)


@post(
    "/allocation-requests/{request_id:uuid}/accept",
    guards=[allow(Role.MSME, scope=Scope.REQUESTS_ANSWER)],
    status_code=200,
    responses=problem_responses(409),
)
async def accept_request(
    request_id: FromPath[UUID],
    data: JSONBody[AcceptBody],
    request: Request[Any, Any, Any],
    principal: Caller,
    ctx: Context,
) -> AnswerView:
    """Accept all or part; books the pool and the capacity ledgers at once, or refuses with 409 (over-allocation
    or over-capacity)."""
    outcome = await accept(
        ctx.store, request_id, data.quantity, answering_for=await answering_for(ctx, principal),
        by=f"{principal.role.value}:{principal.sub}", at=ctx.clock.now(), metadata=command_metadata(request, principal),
    )  # fmt: skip
    version = outcome.versions[request_stream(request_id)]
    return answer_view(outcome.value, request_id, version, outcome.position)


@post(
    "/allocation-requests/{request_id:uuid}/decline",
    guards=[allow(Role.MSME, scope=Scope.REQUESTS_ANSWER)],
    status_code=200,
    responses=problem_responses(409),
)
async def decline_request(
    request_id: FromPath[UUID],
    data: JSONBody[DeclineBody],
    request: Request[Any, Any, Any],
    principal: Caller,
    ctx: Context,
) -> AnswerView:
    """Decline with a reason; the pool re-allocates the units to other MSMEs."""
    outcome = await decline(
        ctx.store, request_id, data.reason, answering_for=await answering_for(ctx, principal),
        by=f"{principal.role.value}:{principal.sub}", at=ctx.clock.now(), metadata=command_metadata(request, principal),
    )  # fmt: skip
    version = outcome.versions[request_stream(request_id)]
    return answer_view(outcome.value, request_id, version, outcome.position)


@get("/unmatched-demand", guards=[allow(Role.AGGREGATOR, scope=Scope.POOLS_READ)])
async def list_unmatched(
    principal: Caller, ctx: Context, limit: Limit = 50, cursor: Cursor = None, wait_for: WaitFor = None
) -> Page[UnmatchedView]:
    """Confirmed order lines quoted by the caller's organisation that no open pool matched."""
    await wait_for_position(ctx, wait_for)
    after = BY_ID.decode(cursor)
    org = None if principal.is_admin else principal.org
    rows = await queries.unmatched_rows(ctx.pool, org=org, after=after[0] if after else None, limit=limit)
    return BY_ID.page(
        rows, limit, lambda row: UnmatchedView(**{f: row[f] for f in UnmatchedView.__struct_fields__}), _by_line
    )


def _by_line(demand: UnmatchedView) -> tuple[UUID]:
    return (demand.line_id,)


ROUTES = [list_requests, get_request, accept_request, decline_request, list_unmatched]
