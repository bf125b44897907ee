"""Accounts' reads: organisations a caller may see, an organisation's invitations and keys."""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

import sqlalchemy as sa

from services.accounts.read.tables import organisations
from services.accounts.read.views import OrganisationSummary
from shared.auth import Principal
from shared.identities import api_keys_table, memberships_table
from shared.outages import is_outage
from shared.pages import Keyset, Page
from shared.service import ServiceContext
from shared.sql import fetch

T = TypeVar("T")
BY_ORG: Keyset[tuple[str]] = Keyset(tuple[str])


async def organisations_page(
    ctx: ServiceContext, principal: Principal, limit: int, cursor: str | None, kind: str | None
) -> Page[OrganisationSummary]:
    """Every organisation for operators; for others, those they belong to (and the one they act for)."""
    query = sa.select(organisations).order_by(organisations.c.org).limit(limit + 1)
    if not principal.is_admin:
        mine = sa.select(memberships_table(ctx.schema).c.org).where(
            memberships_table(ctx.schema).c.subject == principal.sub
        )
        query = query.where(sa.or_(organisations.c.org == principal.org, organisations.c.org.in_(mine)))
    if kind is not None:
        query = query.where(organisations.c.kind == kind)
    after = BY_ORG.decode(cursor)
    if after is not None:
        query = query.where(organisations.c.org > after[0])
    rows = await fetch(ctx.pool, query)
    return BY_ORG.page(
        rows,
        limit,
        lambda r: OrganisationSummary(org=r["org"], kind=r["kind"], name=r["name"], registered_at=r["registered_at"]),
        lambda item: (item.org,),
    )


async def last_uses(ctx: ServiceContext, key_ids: list[str]) -> dict[str, datetime | None]:
    """When each key was last used, in any service (to the minute), as every service notes it in the bucket of
    keys' uses; while NATS cannot be reached, when accounts itself last saw it used."""
    if not key_ids:
        return {}
    if ctx.identities.uses is not None:
        try:
            return await ctx.identities.uses.latest(key_ids)
        except Exception as error:
            if not is_outage(error):
                raise
    keys = api_keys_table(ctx.schema)
    rows = await fetch(ctx.pool, sa.select(keys.c.key_id, keys.c.last_used_at).where(keys.c.key_id.in_(key_ids)))
    return {r["key_id"]: r["last_used_at"] for r in rows}


def page_of(items: list[tuple[str, T]], limit: int, cursor: str | None) -> Page[T]:
    """A page of one organisation's own list (its invitations, its keys: a handful), ordered by id."""
    after = BY_ORG.decode(cursor)
    rest = sorted((kv for kv in items if after is None or kv[0] > after[0]), key=lambda kv: kv[0])
    page = rest[:limit]
    next_cursor = BY_ORG.encode((page[-1][0],)) if len(rest) > limit and page else None
    return Page(items=[v for _, v in page], next_cursor=next_cursor)
