"""Pooling's SQL reads for the lists clients page through, oldest (lowest id) first."""

from __future__ import annotations

from uuid import UUID

import asyncpg
import sqlalchemy as sa

from services.pooling.read.tables import allocation_requests, pools, proposals, unmatched_demand
from shared.sql import fetch, fetchrow


async def pool_rows(
    db: asyncpg.Pool, *, org: str | None, status: str | None, after: UUID | None, limit: int
) -> list[asyncpg.Record]:
    """Up to ``limit`` + 1 pools (of ``org``, unless None), with ``status`` if given, after the pool ``after``."""
    query = sa.select(pools).order_by(pools.c.pool_id).limit(limit + 1)
    if org is not None:
        query = query.where(pools.c.aggregator_org == org)
    if status is not None:
        query = query.where(pools.c.status == status)
    if after is not None:
        query = query.where(pools.c.pool_id > after)
    return await fetch(db, query)


async def proposal_rows(db: asyncpg.Pool, pool_id: UUID, *, after: UUID | None, limit: int) -> list[asyncpg.Record]:
    """Up to ``limit`` + 1 of the pool's proposals after the proposal ``after``."""
    query = sa.select(proposals).where(proposals.c.pool_id == pool_id).order_by(proposals.c.proposal_id)
    if after is not None:
        query = query.where(proposals.c.proposal_id > after)
    return await fetch(db, query.limit(limit + 1))


async def proposal_row(db: asyncpg.Pool, pool_id: UUID, proposal_id: UUID) -> asyncpg.Record | None:
    return await fetchrow(
        db, sa.select(proposals).where(proposals.c.proposal_id == proposal_id, proposals.c.pool_id == pool_id)
    )


async def request_rows(
    db: asyncpg.Pool,
    *,
    org: str | None,
    msmes: set[UUID] | None,
    status: str | None,
    pool_id: UUID | None,
    msme_id: UUID | None,
    after: UUID | None,
    limit: int,
) -> list[asyncpg.Record]:
    """Up to ``limit`` + 1 allocation requests to the pools of ``org`` or to ``msmes`` (None: any), filtered."""
    c = allocation_requests.c
    query = sa.select(allocation_requests).order_by(c.request_id).limit(limit + 1)
    if org is not None:
        query = query.where(c.aggregator_org == org)
    if msmes is not None:
        query = query.where(c.msme_id.in_(sorted(msmes)))
    for column, value in ((c.status, status), (c.pool_id, pool_id), (c.msme_id, msme_id)):
        if value is not None:
            query = query.where(column == value)
    if after is not None:
        query = query.where(c.request_id > after)
    return await fetch(db, query)


async def request_row(db: asyncpg.Pool, request_id: UUID) -> asyncpg.Record | None:
    return await fetchrow(db, sa.select(allocation_requests).where(allocation_requests.c.request_id == request_id))


async def unmatched_rows(db: asyncpg.Pool, *, org: str | None, after: UUID | None, limit: int) -> list[asyncpg.Record]:
    """Up to ``limit`` + 1 confirmed order lines no pool matched, quoted by ``org`` (None: any)."""
    c = unmatched_demand.c
    query = sa.select(unmatched_demand).order_by(c.line_id).limit(limit + 1)
    if org is not None:
        query = query.where(c.aggregator_org == org)
    if after is not None:
        query = query.where(c.line_id > after)
    return await fetch(db, query)
