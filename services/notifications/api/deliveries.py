"""The delivery log: every message queued for an MSME's contacts and what became of it."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import asyncpg
import sqlalchemy as sa
from litestar import get
from litestar.params import FromPath, QueryParameter

from services.notifications.read.tables import deliveries, msmes
from services.notifications.read.views import DeliveryView, delivery_view
from services.notifications.use_cases.contacts import may_manage
from shared.api import Caller, Context, Cursor, Limit
from shared.auth import Principal, Role
from shared.guards import allow
from shared.kernel.errors import NotFound
from shared.kernel.scopes import Scope
from shared.pages import BY_ID, Page
from shared.sql import fetch, fetchrow

Status = Annotated[
    str | None,
    QueryParameter(name="status", pattern="^(queued|sending|sent|delivered|read|failed)$", max_length=9),
]


@get("/deliveries", guards=[allow(Role.MSME, Role.AGGREGATOR, scope=Scope.CONTACTS_READ)])
async def list_deliveries(
    principal: Caller,
    ctx: Context,
    msme_id: Annotated[UUID | None, QueryParameter(name="msme_id")] = None,
    status: Status = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[DeliveryView]:
    """Messages to the contacts of the MSMEs the caller manages (its own organisation's, or those its aggregator
    organisation registered), oldest first; ``msme_id`` and ``status`` narrow the list."""
    after = BY_ID.decode(cursor)
    c = deliveries.c
    statement = sa.select(deliveries)
    if not principal.is_admin:
        managed = sa.or_(msmes.c.org == principal.org, msmes.c.registered_by == principal.org)
        if principal.role is not Role.AGGREGATOR:
            managed = msmes.c.org == principal.org
        statement = statement.where(c.msme_id.in_(sa.select(msmes.c.msme_id).where(managed)))
    if msme_id is not None:
        statement = statement.where(c.msme_id == msme_id)
    if status is not None:
        statement = statement.where(c.status == status)
    if after:
        statement = statement.where(c.id > after[0])
    rows = await fetch(ctx.pool, statement.order_by(c.id).limit(limit + 1))
    return BY_ID.page(rows, limit, delivery_view, lambda v: (v.id,))


@get("/deliveries/{delivery_id:uuid}", guards=[allow(Role.MSME, Role.AGGREGATOR, scope=Scope.CONTACTS_READ)])
async def get_delivery(delivery_id: FromPath[UUID], principal: Caller, ctx: Context) -> DeliveryView:
    """One message: its text, status, attempts, provider message id and last error."""
    row = await fetchrow(ctx.pool, sa.select(deliveries).where(deliveries.c.id == delivery_id))
    if row is None or not await _sees(ctx.pool, principal, row["msme_id"]):
        raise NotFound(f"no delivery {delivery_id}")
    return delivery_view(row)


async def _sees(pool: asyncpg.Pool, principal: Principal, msme_id: UUID) -> bool:
    if principal.is_admin:
        return True
    owner = await fetchrow(pool, sa.select(msmes.c.org, msmes.c.registered_by).where(msmes.c.msme_id == msme_id))
    return owner is not None and may_manage(principal, owner["org"], owner["registered_by"])


ROUTES = [list_deliveries, get_delivery]
