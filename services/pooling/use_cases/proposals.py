"""Use cases on a pool's allocation: run the engine and store (or send) its proposal, approve a stored one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from uuid import UUID

from events.pooling import AllocationPolicy, AllocationProposed
from services.pooling.domain.pool import pool_stream
from services.pooling.engine import run_engine
from services.pooling.use_cases.access import load_pool, visible_pool
from services.pooling.use_cases.supply import Sent, propose, send_proposal
from shared.auth import Principal
from shared.decider import CommandOutcome, UnitOfWork, run_command
from shared.eventstore import Metadata
from shared.kernel.errors import Conflict, NotFound
from shared.service import ServiceContext

ATTEMPTS = 3
"""How often the engine is run again when the pool changed while it ran."""


async def allocate(
    ctx: ServiceContext,
    principal: Principal,
    pool_id: UUID,
    policy: AllocationPolicy,
    *,
    send: bool,
    ready: Callable[[], None],
    by: str,
    metadata: Metadata,
) -> tuple[AllocationProposed, CommandOutcome[Sent]]:
    """Run the engine on the pool's open demand and store its proposal (sending its requests with ``send``).

    ``ready`` refuses (503) while the read models the engine reads are still catching up.
    """
    await visible_pool(ctx, principal, pool_id)
    ready()
    for _attempt in range(ATTEMPTS):
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
                trigger="run by the aggregator", send=send, by=by, at=ctx.clock.now(), metadata=metadata,
            )  # fmt: skip
        except Conflict as stale:
            if stale.problem == "stale-proposal":
                continue
            raise
        (event,) = [e for e in outcome.events if isinstance(e, AllocationProposed)]
        return event, outcome
    raise Conflict("the pool kept changing while the engine ran; retry", problem="stale-proposal")


async def approve(
    ctx: ServiceContext,
    principal: Principal,
    pool_id: UUID,
    proposal_id: UUID,
    *,
    expires_in: int | None,
    by: str,
    at: datetime,
    metadata: Metadata,
) -> tuple[AllocationProposed, CommandOutcome[tuple[UUID, ...]]]:
    """Send a stored proposal's allocation requests; they expire after ``expires_in`` seconds (default: the run's)."""
    state, _ = await visible_pool(ctx, principal, pool_id)
    stored = state.proposals.get(proposal_id)
    if stored is None:
        raise NotFound(f"the pool has no proposal {proposal_id}")
    expires_at = at + timedelta(seconds=expires_in or stored.policy.expires_in_s)

    async def work(unit: UnitOfWork) -> tuple[UUID, ...]:
        _, ids = await send_proposal(unit, pool_id, proposal_id, expires_at, by, at)
        return ids

    outcome = await run_command(ctx.store, work, metadata=metadata, lock_streams=[pool_stream(pool_id)])
    events, _ = await ctx.store.load(pool_stream(pool_id))
    (event,) = [e for e in events if isinstance(e, AllocationProposed) and e.proposal_id == proposal_id]
    return event, outcome
