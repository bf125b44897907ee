"""Deadlines: due actions kept in a service's ``due_actions`` table and fired once each, by any replica.

``schedule`` records (or moves) the action for a (kind, subject) in the caller's transaction; a worker
claims the rows that are due with ``FOR UPDATE SKIP LOCKED`` so N replicas fire each once, runs the
handler for its kind in the same transaction, and marks the row done. A handler issues an ordinary
command, which ignores what is already settled, so firing late or after a change is harmless.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import msgspec

from shared.eventstore import Connection
from shared.outages import Backoff, is_outage
from shared.service import ServiceContext

log = logging.getLogger("gotong.schedule")

RETRY_AFTER = timedelta(seconds=30)
"""How long a due action whose handler failed waits before it is tried again."""


@dataclass(frozen=True)
class DueAction:
    """One deadline that has come: what to do (``kind``), to what (``subject``), with its ``payload``."""

    id: int
    kind: str
    subject: str
    due_at: datetime
    payload: dict[str, Any]


DueHandler = Callable[[ServiceContext, DueAction, Connection], Awaitable[None]]


async def schedule(
    connection: Connection | asyncpg.Pool,
    kind: str,
    subject: str,
    due_at: datetime,
    payload: Mapping[str, Any] | None = None,
    *,
    schema: str,
) -> None:
    """Record that ``kind`` is due for ``subject`` at ``due_at``, replacing an earlier one (done or not)."""
    await connection.execute(
        f"INSERT INTO {schema}.due_actions (kind, subject, due_at, payload) VALUES ($1, $2, $3, $4::jsonb) "
        "ON CONFLICT (kind, subject) DO UPDATE SET due_at = EXCLUDED.due_at, payload = EXCLUDED.payload, "
        "done_at = NULL",
        kind,
        subject,
        due_at,
        msgspec.json.encode(dict(payload or {})).decode(),
    )


async def fire_due_actions(context: ServiceContext, handlers: Mapping[str, DueHandler], *, limit: int = 100) -> int:
    """Fire what is due by the service's clock, once each across replicas; returns how many were fired.

    Kinds without a handler here are left for a worker that has one.
    """
    now = context.clock.now()
    schema = context.schema
    fired = 0
    async with context.pool.acquire() as connection, connection.transaction():
        rows = await connection.fetch(
            f"SELECT id, kind, subject, due_at, payload::text AS payload FROM {schema}.due_actions "
            "WHERE done_at IS NULL AND due_at <= $1 AND kind = ANY($2::text[]) "
            "ORDER BY due_at, id LIMIT $3 FOR UPDATE SKIP LOCKED",
            now,
            list(handlers),
            limit,
        )
        for row in rows:
            action = DueAction(
                row["id"], row["kind"], row["subject"], row["due_at"], msgspec.json.decode(row["payload"])
            )
            try:
                async with connection.transaction():
                    await handlers[action.kind](context, action, connection)
                    await connection.execute(
                        f"UPDATE {schema}.due_actions SET done_at = $2 WHERE id = $1", action.id, now
                    )
                fired += 1
            except Exception as error:
                if is_outage(error):
                    raise  # not the action's fault: undo the claim and try again once the database is back
                log.exception("due action %s for %s failed; retrying later", action.kind, action.subject)
                await connection.execute(
                    f"UPDATE {schema}.due_actions SET due_at = $2 WHERE id = $1", action.id, now + RETRY_AFTER
                )
    if fired:
        context.store.committed()
    return fired


async def run_due_actions(context: ServiceContext, handlers: Mapping[str, DueHandler], poll: float = 1.0) -> None:
    """A service worker: fire due actions as they come, checking every ``poll`` seconds; an outage is
    waited out with backoff."""
    backoff = Backoff(f"due actions of {context.schema}", log)

    async def fire_all() -> None:
        while await fire_due_actions(context, handlers):
            pass

    while True:
        await backoff.retry(fire_all)
        await asyncio.sleep(poll)
