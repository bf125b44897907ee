"""Who may see what in pooling: aggregators their own pools, MSME users their own MSMEs' requests."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import sqlalchemy as sa
from litestar import Request

from services.pooling.domain.allocation_request import AllocationRequest
from services.pooling.domain.pool import POOL, pool_stream
from services.pooling.domain.pool_state import Pool
from services.pooling.read.tables import msmes
from services.pooling.use_cases.allocation_requests import load_request
from shared.auth import Principal, Role
from shared.decider import fold_stream
from shared.kernel.errors import NotFound, NotReady
from shared.service import ServiceContext
from shared.sql import fetch


async def owned_msmes(ctx: ServiceContext, principal: Principal) -> set[UUID]:
    """The MSMEs whose owning organisation (from catalog) is the caller's."""
    rows = await fetch(ctx.pool, sa.select(msmes.c.msme_id).where(msmes.c.org == principal.org))
    return {row["msme_id"] for row in rows}


async def answering_for(ctx: ServiceContext, principal: Principal) -> set[UUID] | None:
    """The MSMEs on whose behalf the caller answers allocation requests: its own, or any (None) for an admin."""
    return None if principal.is_admin else await owned_msmes(ctx, principal)


async def requests_seen_by(ctx: ServiceContext, principal: Principal) -> tuple[str | None, set[UUID] | None]:
    """Whose allocation requests the caller sees: (the aggregator organisation whose pools sent them, the MSMEs
    they were sent to); None places no limit. An admin sees every request."""
    if principal.is_admin:
        return None, None
    if principal.role is Role.AGGREGATOR:
        return principal.org, None
    return None, await owned_msmes(ctx, principal)


async def load_pool(ctx: ServiceContext, pool_id: UUID) -> tuple[Pool, int]:
    return await fold_stream(ctx.store, POOL, pool_stream(pool_id))


async def visible_pool(ctx: ServiceContext, principal: Principal, pool_id: UUID) -> tuple[Pool, int]:
    """The pool as its stream has it; 404 unless the caller's organisation owns it (or an admin asks)."""
    state, version = await load_pool(ctx, pool_id)
    if not state.exists or (state.aggregator_org != principal.org and not principal.is_admin):
        raise NotFound(f"no pool {pool_id}")
    return state, version


async def supplier_or_owner(ctx: ServiceContext, principal: Principal, state: Pool, msme_id: UUID) -> None:
    """An MSME's lot is recorded by the pool's aggregator, or by users of an MSME that supplies the pool.

    Anyone else gets 404: a pool's existence shows only to its owner and its suppliers.
    """
    if principal.is_admin or (principal.role is Role.AGGREGATOR and state.aggregator_org == principal.org):
        return
    supplies = msme_id in state.suppliers or any(p.msme_id == msme_id for p in state.pending.values())
    if principal.role is Role.MSME and supplies and msme_id in await owned_msmes(ctx, principal):
        return
    raise NotFound(f"no pool {state.pool_id}")


async def visible_request(ctx: ServiceContext, principal: Principal, request_id: UUID) -> AllocationRequest:
    """An MSME user sees its MSMEs' requests, an aggregator its pools' requests; anyone else gets 404."""
    request = await load_request(ctx.store, request_id)
    if principal.is_admin:
        return request
    if principal.role is Role.AGGREGATOR and request.aggregator_org == principal.org:
        return request
    if principal.role is Role.MSME and request.msme_id in await owned_msmes(ctx, principal):
        return request
    raise NotFound(f"no allocation request {request_id}")


def require_caught_up(request: Request[Any, Any, Any], ctx: ServiceContext) -> None:
    """Allocation needs current read models: 503 until pooling's consumers have caught up with their streams."""
    runtime = request.app.state.runtime
    behind = [c.durable for c in runtime.consumers if c.store.schema == ctx.schema and not c.caught_up.is_set()]
    if behind:
        raise NotReady(f"pooling is still catching up with {', '.join(sorted(behind))}; retry shortly")
