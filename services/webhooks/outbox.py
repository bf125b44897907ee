"""The messages waiting to go out, one row per (event, subscription), and what each try got.

A message is queued in the transaction that handles its event (exactly once: the inbox), with its body
encoded then, so every try and every redelivery sends the same bytes under the same ``webhook-id``
(``msg_<event id>_<subscription id>``). It goes out only when no earlier message of the same subscription and
aggregate (``ordering_key``: the event's service and stream) is still pending, so a receiver gets each
order's, pool's or request's events in order; a message given up lets the next one go.

A dispatcher claims due messages by pushing their next try a lease ahead (one statement, ``SKIP LOCKED``), so
no transaction stays open across an HTTP call and a dispatcher that dies mid-try only delays the message; any
number of replicas share the work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg
import msgspec

from events.webhooks import Message
from services.webhooks.domain.retries import Streak, next_attempt, succeeded
from services.webhooks.domain.signing import key_of
from services.webhooks.transport import Outcome
from shared.eventstore import Connection

SCHEMA = "webhooks"
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
LEASE = timedelta(seconds=60)
"""How long a claimed message is left alone; far longer than one try may take."""
_encoder = msgspec.json.Encoder()


def message_id(event_id: UUID, subscription_id: UUID) -> str:
    """The ``webhook-id`` of an event's message to a subscription: the same on every try."""
    return f"msg_{event_id.hex}_{subscription_id.hex}"


def encode(event_type: str, timestamp: datetime, data: object) -> bytes:
    return _encoder.encode(Message(type=event_type, timestamp=timestamp, data=data))


async def queue(
    connection: Connection,
    *,
    subscription_id: UUID,
    org: str,
    ordering_key: str,
    event_id: UUID,
    event_type: str,
    event: str,
    body: bytes,
    at: datetime,
) -> None:
    """Queue a message, due at once (a second copy of the same message is ignored)."""
    await connection.execute(
        f"""INSERT INTO {SCHEMA}.deliveries (message_id, subscription_id, org, ordering_key, event_id, event_type,
                event, body, status, created_at, next_attempt_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, '{PENDING}', $9, $9) ON CONFLICT (message_id) DO NOTHING""",
        message_id(event_id, subscription_id),
        subscription_id,
        org,
        ordering_key,
        event_id,
        event_type,
        event,
        body,
        at,
    )


@dataclass(frozen=True)
class Claimed:
    """A message a dispatcher is about to try (its ``attempt``-th try)."""

    seq: int
    message_id: str
    subscription_id: UUID
    url: str
    body: bytes
    attempt: int
    first_attempted_at: datetime


async def claim(pool: asyncpg.Pool | Connection, now: datetime, limit: int) -> list[Claimed]:
    """Lease up to ``limit`` due messages, each the first pending one of its subscription and aggregate, of
    enabled subscriptions."""
    rows = await pool.fetch(
        f"""UPDATE {SCHEMA}.deliveries d
            SET next_attempt_at = $2, attempts = d.attempts + 1, last_attempted_at = $1,
                first_attempted_at = coalesce(d.first_attempted_at, $1)
            FROM (SELECT d.seq, s.url FROM {SCHEMA}.deliveries d
                  JOIN {SCHEMA}.subscriptions s ON s.id = d.subscription_id AND s.enabled
                  WHERE d.status = '{PENDING}' AND d.next_attempt_at <= $1
                    AND NOT EXISTS (SELECT 1 FROM {SCHEMA}.deliveries e
                                    WHERE e.subscription_id = d.subscription_id AND e.ordering_key = d.ordering_key
                                      AND e.status = '{PENDING}' AND e.seq < d.seq)
                  ORDER BY d.next_attempt_at, d.seq LIMIT $3
                  FOR UPDATE OF d SKIP LOCKED) due
            WHERE d.seq = due.seq
            RETURNING d.seq, d.message_id, d.subscription_id, due.url, d.body, d.attempts, d.first_attempted_at""",
        now,
        now + LEASE,
        limit,
    )
    return [
        Claimed(r["seq"], r["message_id"], r["subscription_id"], r["url"], bytes(r["body"]), r["attempts"],
                r["first_attempted_at"])
        for r in rows
    ]  # fmt: skip


async def signing_keys(pool: asyncpg.Pool, subscription_ids: set[UUID], now: datetime) -> dict[UUID, list[bytes]]:
    """Each subscription's valid keys, newest first: the current one, and the previous one until it expires."""
    rows = await pool.fetch(
        f"SELECT subscription_id, secret FROM {SCHEMA}.secrets WHERE subscription_id = ANY($1::uuid[]) "
        "AND (expires_at IS NULL OR expires_at > $2) ORDER BY subscription_id, version DESC",
        list(subscription_ids),
        now,
    )
    keys: dict[UUID, list[bytes]] = {}
    for row in rows:
        keys.setdefault(row["subscription_id"], []).append(key_of(row["secret"]))
    return keys


async def record(pool: asyncpg.Pool, claimed: Claimed, outcome: Outcome, now: datetime) -> Streak | None:
    """Keep the try and its message's new state; the subscription's streak of failures if it failed. Nothing is
    kept of a message deleted (with its subscription) while it was being sent."""
    delivered = succeeded(outcome.status)
    retry = None if delivered else next_attempt(claimed.attempt, claimed.first_attempted_at, now)
    status = DELIVERED if delivered else (PENDING if retry is not None else FAILED)
    async with pool.acquire() as connection, connection.transaction():
        exists = await connection.fetchval(
            f"SELECT true FROM {SCHEMA}.deliveries WHERE seq = $1 FOR UPDATE", claimed.seq
        )
        if not exists:
            return None
        await connection.execute(
            f"INSERT INTO {SCHEMA}.attempts (delivery_seq, number, at, response_status, response_body, latency_ms, "
            "error) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
            claimed.seq, claimed.attempt, now, outcome.status, outcome.body, outcome.latency_ms, outcome.error,
        )  # fmt: skip
        await connection.execute(
            f"""UPDATE {SCHEMA}.deliveries SET status = $2, next_attempt_at = $3, response_status = $4,
                    response_body = $5, latency_ms = $6, error = $7,
                    delivered_at = CASE WHEN $2 = '{DELIVERED}' THEN $8 ELSE delivered_at END
                WHERE seq = $1 AND status = '{PENDING}' AND attempts = $9""",
            claimed.seq, status, retry, outcome.status, outcome.body, outcome.latency_ms, outcome.error, now,
            claimed.attempt,
        )  # fmt: skip
        if delivered:
            await connection.execute(
                f"""INSERT INTO {SCHEMA}.health (subscription_id, consecutive_failures, last_success_at)
                    VALUES ($1, 0, $2) ON CONFLICT (subscription_id) DO UPDATE
                    SET consecutive_failures = 0, failing_since = NULL, last_error = NULL, last_success_at = $2""",
                claimed.subscription_id,
                now,
            )
            return None
        row = await connection.fetchrow(
            f"""INSERT INTO {SCHEMA}.health (subscription_id, consecutive_failures, failing_since, last_error)
                VALUES ($1, 1, $2, $3) ON CONFLICT (subscription_id) DO UPDATE
                SET consecutive_failures = health.consecutive_failures + 1,
                    failing_since = coalesce(health.failing_since, $2), last_error = $3
                RETURNING consecutive_failures, failing_since""",
            claimed.subscription_id,
            now,
            _failure(outcome),
        )
        assert row is not None
        return Streak(row["consecutive_failures"], row["failing_since"])


def _failure(outcome: Outcome) -> str:
    return outcome.error or f"answered {outcome.status}"


async def last_error(pool: asyncpg.Pool, subscription_id: UUID) -> str:
    found = await pool.fetchval(f"SELECT last_error FROM {SCHEMA}.health WHERE subscription_id = $1", subscription_id)
    return str(found or "")


async def redeliver(connection: Connection, subscription_id: UUID, message_id: str, now: datetime) -> bool:
    """Send a message again, at once (after the earlier pending ones of its aggregate), with a new day of tries."""
    done = await connection.execute(
        f"""UPDATE {SCHEMA}.deliveries SET status = '{PENDING}', next_attempt_at = $3, first_attempted_at = NULL
            WHERE subscription_id = $1 AND message_id = $2""",
        subscription_id,
        message_id,
        now,
    )
    return str(done) != "UPDATE 0"


async def resume(connection: Connection, subscription_id: UUID, now: datetime) -> None:
    """A subscription enabled again: its waiting messages are due now, and its streak starts over."""
    await connection.execute(
        f"UPDATE {SCHEMA}.deliveries SET next_attempt_at = $2 WHERE subscription_id = $1 AND status = '{PENDING}'",
        subscription_id,
        now,
    )
    await connection.execute(
        f"UPDATE {SCHEMA}.health SET consecutive_failures = 0, failing_since = NULL WHERE subscription_id = $1",
        subscription_id,
    )


async def forget(connection: Connection, subscription_id: UUID) -> None:
    """A deleted subscription's messages, tries, health and secrets go with it."""
    for statement in (
        f"DELETE FROM {SCHEMA}.attempts WHERE delivery_seq IN "
        f"(SELECT seq FROM {SCHEMA}.deliveries WHERE subscription_id = $1)",
        f"DELETE FROM {SCHEMA}.deliveries WHERE subscription_id = $1",
        f"DELETE FROM {SCHEMA}.health WHERE subscription_id = $1",
        f"DELETE FROM {SCHEMA}.secrets WHERE subscription_id = $1",
    ):
        await connection.execute(statement, subscription_id)


async def prune(pool: asyncpg.Pool, before: datetime, limit: int = 1000) -> int:
    """Drop up to ``limit`` finished messages (delivered or given up) created before ``before``, with their tries."""
    async with pool.acquire() as connection, connection.transaction():
        seqs = await connection.fetch(
            f"DELETE FROM {SCHEMA}.deliveries WHERE seq IN (SELECT seq FROM {SCHEMA}.deliveries "
            f"WHERE status <> '{PENDING}' AND created_at < $1 ORDER BY seq LIMIT $2) RETURNING seq",
            before,
            limit,
        )
        if seqs:
            await connection.execute(
                f"DELETE FROM {SCHEMA}.attempts WHERE delivery_seq = ANY($1::bigint[])", [r["seq"] for r in seqs]
            )
        return len(seqs)
