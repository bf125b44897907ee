"""Webhooks' reads: subscriptions a caller may see, their health, deliveries and their tries."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

import asyncpg
import sqlalchemy as sa

from services.webhooks.read.tables import attempts, deliveries, health, subscriptions
from services.webhooks.read.views import (
    DeliveryDetail,
    DeliveryView,
    SubscriptionView,
    delivery_detail,
    delivery_view,
    subscription_view,
)
from shared.auth import Principal
from shared.eventstore import Connection
from shared.kernel.errors import NotFound
from shared.pages import BY_ID, Keyset, Page
from shared.service import ServiceContext
from shared.sql import fetch, fetchrow

DeliveryStatus = Literal["pending", "delivered", "failed"]
NEWEST_FIRST: Keyset[tuple[int]] = Keyset(tuple[int])


async def subscription_row(executor: Connection | asyncpg.Pool, subscription_id: UUID) -> asyncpg.Record | None:
    return await fetchrow(executor, sa.select(subscriptions).where(subscriptions.c.id == subscription_id))


async def visible_subscription(ctx: ServiceContext, principal: Principal, subscription_id: UUID) -> asyncpg.Record:
    """The subscription, if the caller's organisation owns it (operators see all); otherwise 404."""
    row = await subscription_row(ctx.pool, subscription_id)
    if row is None or not (principal.is_admin or row["org"] == principal.org):
        raise NotFound(f"no webhook subscription {subscription_id}")
    return row


async def subscription(
    ctx: ServiceContext, principal: Principal, subscription_id: UUID, position: int = 0
) -> SubscriptionView:
    row = await visible_subscription(ctx, principal, subscription_id)
    health_row = await fetchrow(ctx.pool, sa.select(health).where(health.c.subscription_id == subscription_id))
    return subscription_view(row, health_row, ctx.clock.now(), position)


async def subscriptions_page(
    ctx: ServiceContext, principal: Principal, limit: int, cursor: str | None, org: str | None
) -> Page[SubscriptionView]:
    """The caller's organisation's subscriptions, oldest first; operators see every organisation's (or ``org``'s)."""
    query = sa.select(subscriptions).order_by(subscriptions.c.id).limit(limit + 1)
    if not principal.is_admin:
        query = query.where(subscriptions.c.org == principal.org)
    if org is not None:
        query = query.where(subscriptions.c.org == org)
    after = BY_ID.decode(cursor)
    if after is not None:
        query = query.where(subscriptions.c.id > after[0])
    rows = await fetch(ctx.pool, query)
    ids = [row["id"] for row in rows[:limit]]
    healths = (
        {
            r["subscription_id"]: r
            for r in await fetch(ctx.pool, sa.select(health).where(health.c.subscription_id.in_(ids)))
        }
        if ids
        else {}
    )
    now = ctx.clock.now()
    return BY_ID.page(rows, limit, lambda r: subscription_view(r, healths.get(r["id"]), now), lambda v: (v.id,))


async def deliveries_page(
    ctx: ServiceContext,
    subscription_id: UUID,
    limit: int,
    cursor: str | None,
    status: DeliveryStatus | None,
    event_type: str | None,
) -> Page[DeliveryView]:
    """A subscription's deliveries, newest first."""
    query = (
        sa.select(deliveries)
        .where(deliveries.c.subscription_id == subscription_id)
        .order_by(deliveries.c.seq.desc())
        .limit(limit + 1)
    )
    if status is not None:
        query = query.where(deliveries.c.status == status)
    if event_type is not None:
        query = query.where(deliveries.c.event_type == event_type)
    after = NEWEST_FIRST.decode(cursor)
    if after is not None:
        query = query.where(deliveries.c.seq < after[0])
    rows = await fetch(ctx.pool, query)
    seqs = {row["message_id"]: row["seq"] for row in rows}
    return NEWEST_FIRST.page(rows, limit, delivery_view, lambda view: (seqs[view.id],))


async def delivery(ctx: ServiceContext, subscription_id: UUID, message_id: str) -> DeliveryDetail:
    row = await fetchrow(
        ctx.pool,
        sa.select(deliveries).where(
            deliveries.c.subscription_id == subscription_id, deliveries.c.message_id == message_id
        ),
    )
    if row is None:
        raise NotFound(f"no delivery {message_id} of webhook subscription {subscription_id}")
    tries = await fetch(
        ctx.pool, sa.select(attempts).where(attempts.c.delivery_seq == row["seq"]).order_by(attempts.c.number)
    )
    return delivery_detail(row, tries)
