"""Routes for allocation: run the engine on a pool, read its proposals, approve one (send its requests)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath, JSONBody

from events.pooling import AllocationProposed
from services.pooling.api.bodies import AllocateBody, ApproveBody, policy_of
from services.pooling.domain.pool import pool_stream
from services.pooling.read import queries
from services.pooling.read.allocation_views import ProposalView, proposal_view
from services.pooling.use_cases import proposals
from services.pooling.use_cases.access import require_caught_up, visible_pool
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

_proposal = msgspec.json.Decoder(AllocationProposed)
_ids = msgspec.json.Decoder(list[UUID])


@post(
    "/pools/{pool_id:uuid}/allocate",
    guards=[allow(Role.AGGREGATOR, scope=Scope.POOLS_WRITE)],
    responses=problem_responses(409),
)
async def allocate_pool(
    pool_id: FromPath[UUID],
    data: JSONBody[AllocateBody],
    request: Request[Any, Any, Any],
    principal: Caller,
    ctx: Context,
) -> Response[ProposalView]:
    """Run the engine on the pool's open demand; store the proposal, or send its requests at once (``send``)."""
    event, outcome = await proposals.allocate(
        ctx, principal, pool_id, policy_of(data), send=data.send, ready=lambda: require_caught_up(request, ctx),
        by=f"{principal.role.value}:{principal.sub}", metadata=command_metadata(request, principal),
    )  # fmt: skip
    version = outcome.versions[pool_stream(pool_id)]
    view = proposal_view(event, list(outcome.value.request_ids), version, outcome.position)
    return Response(view, status_code=201)


@get("/pools/{pool_id:uuid}/proposals", guards=[allow(Role.AGGREGATOR, scope=Scope.POOLS_READ)])
async def list_proposals(
    pool_id: FromPath[UUID],
    principal: Caller,
    ctx: Context,
    limit: Limit = 50,
    cursor: Cursor = None,
    wait_for: WaitFor = None,
) -> Page[ProposalView]:
    """The pool's proposals, oldest first, re-allocations included (their ``trigger`` says why)."""
    await visible_pool(ctx, principal, pool_id)
    await wait_for_position(ctx, wait_for)
    after = BY_ID.decode(cursor)
    rows = await queries.proposal_rows(ctx.pool, pool_id, after=after[0] if after else None, limit=limit)
    return BY_ID.page(
        rows, limit, lambda r: proposal_view(_proposal.decode(r["body"]), _ids.decode(r["request_ids"])), _by_id
    )


def _by_id(proposal: ProposalView) -> tuple[UUID]:
    return (proposal.id,)


@get(
    "/pools/{pool_id:uuid}/proposals/{proposal_id:uuid}",
    guards=[allow(Role.AGGREGATOR, scope=Scope.POOLS_READ)],
)
async def get_proposal(
    pool_id: FromPath[UUID], proposal_id: FromPath[UUID], principal: Caller, ctx: Context, wait_for: WaitFor = None
) -> ProposalView:
    await visible_pool(ctx, principal, pool_id)
    await wait_for_position(ctx, wait_for)
    row = await queries.proposal_row(ctx.pool, pool_id, proposal_id)
    if row is None:
        raise NotFound(f"the pool has no proposal {proposal_id}")
    return proposal_view(_proposal.decode(row["body"]), _ids.decode(row["request_ids"]))


@post(
    "/pools/{pool_id:uuid}/proposals/{proposal_id:uuid}/approve",
    guards=[allow(Role.AGGREGATOR, scope=Scope.POOLS_WRITE)],
    responses=problem_responses(409),
)
async def approve_proposal(
    pool_id: FromPath[UUID],
    proposal_id: FromPath[UUID],
    data: JSONBody[ApproveBody],
    request: Request[Any, Any, Any],
    principal: Caller,
    ctx: Context,
) -> Response[ProposalView]:
    """Send the proposal's allocation requests; they expire after ``expires_in`` seconds (default: the run's)."""
    event, outcome = await proposals.approve(
        ctx, principal, pool_id, proposal_id, expires_in=data.expires_in, by=f"{principal.role.value}:{principal.sub}",
        at=ctx.clock.now(), metadata=command_metadata(request, principal),
    )  # fmt: skip
    view = proposal_view(event, list(outcome.value), outcome.versions[pool_stream(pool_id)], outcome.position)
    return Response(view, status_code=201)


ROUTES = [allocate_pool, list_proposals, get_proposal, approve_proposal]
