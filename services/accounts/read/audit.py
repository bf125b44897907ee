"""Reading an organisation's audit trail, newest first, and keeping the trail within its retention."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
import sqlalchemy as sa

from services.accounts.read.tables import audit_trail
from services.accounts.read.views import AuditEntry
from shared.eventstore import Connection
from shared.pages import Keyset, Page
from shared.sql import execute, fetch

NEWEST_FIRST: Keyset[tuple[datetime, UUID]] = Keyset(tuple[datetime, UUID])
PRUNE_BATCH = 5_000  # entries deleted per statement, so pruning never holds a long transaction


async def trail_page(
    pool: asyncpg.Pool, org: str, *, limit: int, cursor: str | None, actor: str | None, since: datetime | None
) -> Page[AuditEntry]:
    """A page of the organisation's trail, newest first, of one actor and from a time on if asked."""
    t = audit_trail.c
    query = sa.select(audit_trail).where(t.org == org).order_by(t.at.desc(), t.event_id.desc()).limit(limit + 1)
    if actor is not None:
        query = query.where(t.actor == actor)
    if since is not None:
        query = query.where(t.at >= since)
    after = NEWEST_FIRST.decode(cursor)
    if after is not None:
        query = query.where(sa.tuple_(t.at, t.event_id) < sa.tuple_(*after))
    rows = await fetch(pool, query)
    return NEWEST_FIRST.page(rows, limit, _entry, lambda entry: (entry.at, entry.event_id))


def _entry(row: asyncpg.Record) -> AuditEntry:
    return AuditEntry(
        at=row["at"],
        actor=row["actor"],
        service=row["service"],
        event_type=row["event_type"],
        stream_id=row["stream_id"],
        stream_version=row["stream_version"],
        event_id=row["event_id"],
        correlation_id=row["correlation_id"],
    )


async def prune(pool: Connection | asyncpg.Pool, before: datetime) -> int:
    """Delete the entries older than ``before``, a batch at a time; how many went."""
    t = audit_trail.c
    pruned = 0
    while True:
        oldest = sa.select(t.event_id).where(t.at < before).limit(PRUNE_BATCH)
        status = await execute(pool, audit_trail.delete().where(t.event_id.in_(oldest.scalar_subquery())))
        deleted = int(status.rsplit(" ", 1)[-1])
        pruned += deleted
        if deleted < PRUNE_BATCH:
            return pruned
