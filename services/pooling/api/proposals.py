"""Routes for allocation: run the engine on a pool, read its proposals, approve one (send its requests)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

import msgspec
import sqlalchemy as sa
from litestar import Request, Response, get, post
from litestar.params import FromPath, JSONBody

from events.pooling import AllocationPolicy, AllocationProposed, ExchangeRate
from services.pooling.domain.pool import pool_stream
from services.pooling.engine import run_engine
from services.pooling.read.tables import proposals
from services.pooling.read.views import ProposalView, proposal_view
from services.pooling.use_cases.access import load_pool, require_caught_up, visible_pool
from services.pooling.use_cases.supply import propose, send_proposal
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
from shared.bounds import Amount, Currency, Rate, documented
from shared.decider import UnitOfWork, run_command
from shared.errors import Conflict, FieldError, InvalidInput, NotFound
from shared.pages import BY_ID, Page
from shared.problems import problem_responses
from shared.sql import fetch, fetchrow

DEFAULT_EXPIRY = 48 * 3600
_proposal = msgspec.json.Decoder(AllocationProposed)
_ids = msgspec.json.Decoder(list[UUID])


class WeightsBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    price: Rate = Decimal(1)
    quality: Rate = Decimal(1)
    logistics: Rate = Decimal(1)
    handling: Rate = Decimal(1)


class AllocateBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The aggregator's rules for this run; money in the pool's currency."""

    weights: WeightsBody = WeightsBody()
    max_share: Rate | None = None
    min_msmes: Annotated[int, msgspec.Meta(ge=1, le=10_000)] | None = None
    required_certifications: Annotated[
        list[Annotated[str, msgspec.Meta(min_length=1, max_length=40), documented(max_length=40)]],
        msgspec.Meta(max_length=20),
    ] = []
    allow_probation: bool = False
    exchange_rates: Annotated[dict[Currency, Rate], msgspec.Meta(max_length=50)] = {}
    rejection_penalty_per_unit: Amount = Decimal(0)
    logistics_rate_per_unit_km: Rate = Decimal(0)
    handling_cost_per_msme: Amount = Decimal(0)
    time_limit_s: Annotated[float, msgspec.Meta(gt=0, le=120)] = 10.0
    mip_gap: Annotated[float, msgspec.Meta(ge=0, le=1)] = 0.01
    send: bool = False
    expires_in: Annotated[int, msgspec.Meta(ge=1, le=90 * 86400, description="seconds")] = DEFAULT_EXPIRY


class ApproveBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    expires_in: Annotated[int, msgspec.Meta(ge=1, le=90 * 86400, description="seconds")] | None = None


def policy_of(body: AllocateBody) -> AllocationPolicy:
    """The body's rules, refusing (422) every negative weight or cost, share outside (0, 1] or rate ≤ 0."""
    errors: list[FieldError] = []
    for name in ("price", "quality", "logistics", "handling"):
        if getattr(body.weights, name) < 0:
            errors.append(FieldError(f"weights.{name}", "must not be negative"))
    for name in ("rejection_penalty_per_unit", "logistics_rate_per_unit_km", "handling_cost_per_msme"):
        if getattr(body, name) < 0:
            errors.append(FieldError(name, "must not be negative"))
    if body.max_share is not None and not 0 < body.max_share <= 1:
        errors.append(FieldError("max_share", "must be more than 0 and at most 1"))
    errors += [FieldError(f"exchange_rates.{c}", "must be positive") for c, r in body.exchange_rates.items() if r <= 0]
    if errors:
        raise InvalidInput(errors)
    return AllocationPolicy(
        price_weight=body.weights.price,
        quality_weight=body.weights.quality,
        logistics_weight=body.weights.logistics,
        handling_weight=body.weights.handling,
        max_share=body.max_share,
        min_msmes=body.min_msmes,
        required_certifications=sorted(set(body.required_certifications)),
        allow_probation=body.allow_probation,
        exchange_rates=[ExchangeRate(currency=c, rate=r) for c, r in sorted(body.exchange_rates.items())],
        rejection_penalty_per_unit=body.rejection_penalty_per_unit,
        logistics_rate_per_unit_km=body.logistics_rate_per_unit_km,
        handling_cost_per_msme=body.handling_cost_per_msme,
        time_limit_s=body.time_limit_s,
        mip_gap=body.mip_gap,
        expires_in_s=body.expires_in,
    )


@post("/pools/{pool_id:uuid}/allocate", responses=problem_responses(400, 401, 403, 404, 409, 415, 422, 503))
async def allocate_pool(
    pool_id: FromPath[UUID],
    data: JSONBody[AllocateBody],
    request: Request[Any, Any, Any],
    principal: Caller,
    ctx: Context,
) -> Response[Any]:
    """Run the engine on the pool's open demand; store the proposal, or send its requests at once (``send``)."""
    principal.require(Role.AGGREGATOR)
    policy = policy_of(data)
    await visible_pool(ctx, principal, pool_id)
    require_caught_up(request, ctx)
    for _attempt in range(3):
        state, _ = await load_pool(ctx, pool_id)
        if state.status == "shipped":
            raise Conflict("the pool has shipped", problem="illegal-transition", state="shipped")
        if state.open <= 0:
            raise Conflict(
                "nothing is open: the whole demand is accepted or asked for in pending requests",
                problem="nothing-open",
                demand=state.demand,
            )
        open_quantity, draft = await run_engine(ctx.pool, state, policy, ctx.clock.now().date())
        try:
            outcome = await propose(
                ctx.store, pool_id, open_quantity=open_quantity, draft=draft, policy=policy,
                trigger="run by the aggregator", send=data.send, by=f"{principal.role.value}:{principal.sub}",
                at=ctx.clock.now(), metadata=command_metadata(request, principal),
            )  # fmt: skip
        except Conflict as stale:
            if stale.problem == "stale-proposal":
                continue
            raise
        (event,) = [e for e in outcome.events if isinstance(e, AllocationProposed)]
        version = outcome.versions[pool_stream(pool_id)]
        view = proposal_view(event, list(outcome.value.request_ids), version, outcome.position)
        return Response(view, status_code=201)
    raise Conflict("the pool kept changing while the engine ran; retry", problem="stale-proposal")


@get("/pools/{pool_id:uuid}/proposals", responses=problem_responses(401, 403, 404, 422))
async def list_proposals(
    pool_id: FromPath[UUID],
    principal: Caller,
    ctx: Context,
    limit: Limit = 50,
    cursor: Cursor = None,
    wait_for: WaitFor = None,
) -> Page[ProposalView]:
    """The pool's proposals, oldest first, re-allocations included (their ``trigger`` says why)."""
    principal.require(Role.AGGREGATOR)
    await visible_pool(ctx, principal, pool_id)
    await wait_for_position(ctx, wait_for)
    query = sa.select(proposals).where(proposals.c.pool_id == pool_id).order_by(proposals.c.proposal_id)
    after = BY_ID.decode(cursor)
    if after is not None:
        query = query.where(proposals.c.proposal_id > after[0])
    rows = await fetch(ctx.pool, query.limit(limit + 1))
    return BY_ID.page(
        rows, limit, lambda r: proposal_view(_proposal.decode(r["body"]), _ids.decode(r["request_ids"])), _by_id
    )


def _by_id(proposal: ProposalView) -> tuple[UUID]:
    return (proposal.id,)


@get("/pools/{pool_id:uuid}/proposals/{proposal_id:uuid}", responses=problem_responses(401, 403, 404, 422))
async def get_proposal(
    pool_id: FromPath[UUID], proposal_id: FromPath[UUID], principal: Caller, ctx: Context, wait_for: WaitFor = None
) -> ProposalView:
    principal.require(Role.AGGREGATOR)
    await visible_pool(ctx, principal, pool_id)
    await wait_for_position(ctx, wait_for)
    row = await fetchrow(
        ctx.pool, sa.select(proposals).where(proposals.c.proposal_id == proposal_id, proposals.c.pool_id == pool_id)
    )
    if row is None:
        raise NotFound(f"the pool has no proposal {proposal_id}")
    return proposal_view(_proposal.decode(row["body"]), _ids.decode(row["request_ids"]))


@post(
    "/pools/{pool_id:uuid}/proposals/{proposal_id:uuid}/approve",
    responses=problem_responses(400, 401, 403, 404, 409, 415, 422),
)
async def approve_proposal(
    pool_id: FromPath[UUID],
    proposal_id: FromPath[UUID],
    data: JSONBody[ApproveBody],
    request: Request[Any, Any, Any],
    principal: Caller,
    ctx: Context,
) -> Response[Any]:
    """Send the proposal's allocation requests; they expire after ``expires_in`` seconds (default: the run's)."""
    principal.require(Role.AGGREGATOR)
    state, _ = await visible_pool(ctx, principal, pool_id)
    stored = state.proposals.get(proposal_id)
    if stored is None:
        raise NotFound(f"the pool has no proposal {proposal_id}")
    at = ctx.clock.now()
    expires_at = at + timedelta(seconds=data.expires_in or stored.policy.expires_in_s)
    by = f"{principal.role.value}:{principal.sub}"

    async def work(unit: UnitOfWork) -> tuple[UUID, ...]:
        _, ids = await send_proposal(unit, pool_id, proposal_id, expires_at, by, at)
        return ids

    outcome = await run_command(
        ctx.store, work, metadata=command_metadata(request, principal), lock_streams=[pool_stream(pool_id)]
    )
    events, _ = await ctx.store.load(pool_stream(pool_id))
    (event,) = [e for e in events if isinstance(e, AllocationProposed) and e.proposal_id == proposal_id]
    view = proposal_view(event, list(outcome.value), outcome.versions[pool_stream(pool_id)], outcome.position)
    return Response(view, status_code=201)


ROUTES = [allocate_pool, list_proposals, get_proposal, approve_proposal]
