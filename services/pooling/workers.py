"""Pooling's workers: requests expire on their own, and shortfalls are re-allocated.

Expiry uses the platform's due actions (claimed ``FOR UPDATE SKIP LOCKED`` and fired in that transaction).
Re-allocation runs the engine, which must not run inside a transaction, so its due action is leased
instead: claimed by moving its due time past the lease in one statement, solved with no transaction open,
and marked done in the transaction that sends the new requests, unless it was triggered again meanwhile. One
cut off by an outage, or by a pool that kept changing, is made due again at once rather than left to its lease.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg
import msgspec

from events.pooling import AllocationPolicy
from services.pooling.engine import run_engine
from services.pooling.use_cases.access import load_pool
from services.pooling.use_cases.allocation_requests import EXPIRE, REALLOCATE, SCHEMA, expire
from services.pooling.use_cases.supply import propose
from shared.eventstore import Connection, Metadata
from shared.kernel.errors import Conflict
from shared.outages import Backoff, is_outage
from shared.schedule import DueAction, run_due_actions
from shared.service import ServiceContext

log = logging.getLogger("gotong.pooling")
LEASE = timedelta(minutes=2)
POLL_SECONDS = 0.5


async def expire_request(ctx: ServiceContext, action: DueAction, connection: Connection) -> None:
    """Issue the ordinary expiry command; a request answered in time is left as it is."""
    metadata = Metadata(correlation_id=action.subject, actor="pooling:expiry", command_id=f"{EXPIRE}:{action.subject}")
    await expire(ctx.store, UUID(action.subject), at=ctx.clock.now(), metadata=metadata, connection=connection)


async def expiry_worker(ctx: ServiceContext) -> None:
    await run_due_actions(ctx, {EXPIRE: expire_request}, poll=POLL_SECONDS)


async def claim_reallocation(ctx: ServiceContext) -> tuple[int, UUID, datetime, str] | None:
    """Lease the next due re-allocation: (action id, pool id, lease end, cause)."""
    now = ctx.clock.now()
    row = await ctx.pool.fetchrow(
        f"""UPDATE {SCHEMA}.due_actions SET due_at = $3
            WHERE id = (SELECT id FROM {SCHEMA}.due_actions
                        WHERE kind = $1 AND done_at IS NULL AND due_at <= $2
                        ORDER BY due_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
            RETURNING id, subject, due_at, payload::text AS payload""",
        REALLOCATE,
        now,
        now + LEASE,
    )
    if row is None:
        return None
    cause = str(msgspec.json.decode(row["payload"]).get("cause", "a shortfall"))
    return row["id"], UUID(row["subject"]), row["due_at"], cause


async def _done(connection: Connection | asyncpg.Pool, action_id: int, leased_until: datetime, at: datetime) -> None:
    """Mark the action done unless it was triggered again while it ran (then it runs once more)."""
    await connection.execute(
        f"UPDATE {SCHEMA}.due_actions SET done_at = $3 WHERE id = $1 AND due_at = $2", action_id, leased_until, at
    )


async def _due_again(ctx: ServiceContext, action_id: int, leased_until: datetime) -> None:
    """Give back the lease of an action not done, for the next poll (unless it was triggered again meanwhile,
    which made it due already)."""
    await ctx.pool.execute(
        f"UPDATE {SCHEMA}.due_actions SET due_at = $3 WHERE id = $1 AND due_at = $2 AND done_at IS NULL",
        action_id,
        leased_until,
        ctx.clock.now(),
    )


async def reallocate(ctx: ServiceContext, action_id: int, pool_id: UUID, leased_until: datetime, cause: str) -> bool:
    """Re-run the engine on the pool's open remainder, without the MSMEs it set aside, and send the requests.

    Returns False when the pool kept changing (the worker then makes the action due again).
    """
    for _attempt in range(3):
        state, version = await load_pool(ctx, pool_id)
        at = ctx.clock.now()
        if not state.exists or state.open <= 0 or state.status == "shipped" or state.window_end() is None:
            await _done(ctx.pool, action_id, leased_until, at)
            return True
        policy = state.policy or AllocationPolicy()
        open_quantity, draft = await run_engine(ctx.pool, state, policy, at.date())
        metadata = Metadata(
            correlation_id=str(pool_id), actor="pooling:reallocation", command_id=f"{REALLOCATE}:{pool_id}:{version}"
        )
        try:
            async with ctx.pool.acquire() as connection, connection.transaction():
                await propose(
                    ctx.store, pool_id, open_quantity=open_quantity, draft=draft, policy=policy,
                    trigger=f"re-allocation after {cause}", send=True, by="pooling:reallocation", at=at,
                    metadata=metadata, connection=connection,
                )  # fmt: skip
                await _done(connection, action_id, leased_until, at)
            ctx.store.committed()
            return True
        except Conflict as stale:
            if stale.problem != "stale-proposal":
                raise
    return False


async def reallocation_worker(ctx: ServiceContext) -> None:
    backoff = Backoff("re-allocation", log)
    cut_off: tuple[int, datetime] | None = None  # an action claimed when an outage struck, for the next try

    async def next_reallocation() -> bool:
        nonlocal cut_off
        if cut_off is not None:
            await _due_again(ctx, *cut_off)
            cut_off = None
        claimed = await claim_reallocation(ctx)
        if claimed is None:
            return False
        action_id, _, leased_until, _ = claimed
        try:
            done = await reallocate(ctx, *claimed)
        except Exception as error:
            if is_outage(error):  # tried again once the database answers; a bug waits for its lease to end
                cut_off = action_id, leased_until
            raise
        if not done:  # the pool kept changing: tried again at the next poll
            await _due_again(ctx, action_id, leased_until)
        return done

    while True:
        try:
            if await backoff.retry(next_reallocation):  # an outage is waited out, logged once
                continue
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("re-allocation failed; it is tried again when its lease ends")
        await asyncio.sleep(POLL_SECONDS)
