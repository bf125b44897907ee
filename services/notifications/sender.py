"""The sender: a worker that sends queued deliveries through their channel, once each, across replicas.

It claims due rows ``FOR UPDATE SKIP LOCKED``, marks them ``sending`` with a lease and commits, then calls the
channel with no transaction open, and records the outcome: ``sent`` with the provider's message id, or a retry
with backoff (1 s doubling to 15 min), or ``failed`` on a permanent error or after 24 hours of trying (a sign-in
code: after its 10 minutes). A message's secrets (a sign-in code) are masked in the row once it is sent or
failed for good.

A row in ``sending`` names the sender that leased it: the key of a session advisory lock that sender holds on its
own connection (its ``Presence``). When its process dies, PostgreSQL ends that session and drops the lock, and
another replica takes the row at its next claim; the lease running out is the fallback (a sender that lost its
connection but still runs). Either way a message that was in flight may go twice; nothing else does. The worker
wakes on the outbox's NOTIFY and polls as a fallback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import msgspec

from services.notifications.channels import Channel, Outgoing, SendFailed
from services.notifications.channels.log import LogChannel
from services.notifications.channels.whatsapp import WhatsAppChannel
from services.notifications.domain.outbound import MESSAGE, OutboundMessage
from services.notifications.phone.codes import VALIDITY
from services.notifications.settings import NotificationSettings, settings_of
from shared.outages import Backoff, is_outage
from shared.service import ServiceContext

log = logging.getLogger("gotong.notifications")
CHANNEL = "notifications_outbox"
LEASE = timedelta(seconds=60)
FIRST_RETRY = timedelta(seconds=1)
LAST_RETRY = timedelta(minutes=15)
GIVE_UP_AFTER = timedelta(hours=24)
GIVE_UP = {"sign_in_code": VALIDITY}
"""Kinds tried for less than GIVE_UP_AFTER: a sign-in code is worthless once it has expired."""
WINDOW = timedelta(hours=24)
BATCH = 20
AT_ONCE = 8
POLL_SECONDS = 0.5
UNCONDITIONAL = ("consent", "sign_in_code")
"""Kinds sent even to a contact no longer opted in: the confirmation of an opt-out, a code the person asked for."""


def retry_delay(attempts: int) -> timedelta:
    """1 s after the first failed attempt, doubling, at most 15 min."""
    seconds = FIRST_RETRY.total_seconds() * 2 ** min(max(attempts - 1, 0), 20)
    return timedelta(seconds=min(seconds, LAST_RETRY.total_seconds()))


class Channels:
    """The channel for each contact channel: WhatsApp when a number is configured, else the log."""

    def __init__(self, settings: NotificationSettings) -> None:
        self.log = LogChannel()
        self.whatsapp: Channel = WhatsAppChannel(settings.whatsapp) if settings.whatsapp else self.log

    def for_contact(self, channel: str) -> Channel:
        return self.whatsapp if channel == "whatsapp" else self.log

    async def close(self) -> None:
        await self.whatsapp.close()


class Presence:
    """A sender's sign of life to the other replicas: while ``key`` is set, its process holds the session advisory
    lock of that key on a connection of its own, and the rows it leases carry the key (``claimed_by``)."""

    def __init__(self) -> None:
        self.key: int | None = None

    async def hold(self, connection: asyncpg.Connection) -> None:
        """Take a lock no other session holds (random 62-bit keys: a clash is as good as impossible, and retried)."""
        while True:
            key = secrets.randbits(62)
            if await connection.fetchval("SELECT pg_try_advisory_lock($1)", key):
                self.key = key
                return


_GONE = """q.claimed_by IS NOT NULL AND NOT EXISTS (
             SELECT 1 FROM pg_locks l
             WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
               AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
               AND ((l.classid::bigint << 32) | l.objid::bigint) = q.claimed_by)"""
"""The row's sender is gone: no session holds the advisory lock its lease names (a bigint key shows in pg_locks
as classid = high 32 bits, objid = low 32 bits, objsubid = 1)."""


async def claim(ctx: ServiceContext, limit: int = BATCH, presence: Presence | None = None) -> list[asyncpg.Record]:
    """Lease the due deliveries: queued ones whose time came, and ``sending`` ones whose lease ran out or whose
    sender is gone."""
    now = ctx.clock.now()
    rows: list[asyncpg.Record] = await ctx.pool.fetch(
        f"""UPDATE notifications.deliveries d SET status = 'sending', lease_until = $2, attempts = d.attempts + 1,
                  claimed_by = $4
           FROM (SELECT q.id FROM notifications.deliveries q
                 WHERE (q.status = 'queued' AND q.next_attempt_at <= $1)
                    OR (q.status = 'sending' AND (q.lease_until < $1 OR {_GONE}))
                 ORDER BY q.next_attempt_at, q.id LIMIT $3 FOR UPDATE OF q SKIP LOCKED) due
           WHERE d.id = due.id
           RETURNING d.id, d.phone, d.channel, d.language, d.kind, d.message::text AS message, d.attempts,
                     d.created_at,
                     (SELECT c.opted_in AND NOT c.removed FROM notifications.contacts c
                       WHERE c.contact_id = d.contact_id) AS reachable,
                     (SELECT c.last_inbound_at FROM notifications.conversations c WHERE c.phone = d.phone)
                       AS last_inbound_at""",
        now,
        now + LEASE,
        limit,
        presence.key if presence else None,
    )
    return rows


def _kept(message: OutboundMessage) -> str | None:
    """What the row keeps of a message that has gone: its text with the secrets masked (None: as it is)."""
    return msgspec.json.encode(message.redacted()).decode() if message.secrets else None


async def record_sent(ctx: ServiceContext, delivery_id: Any, message_id: str, message: OutboundMessage) -> None:
    """Sent, unless a status callback (which names the delivery) already moved it further."""
    await ctx.pool.execute(
        "UPDATE notifications.deliveries SET status = CASE WHEN status = 'sending' THEN 'sent' ELSE status END, "
        "provider_message_id = $2, sent_at = COALESCE(sent_at, $3), lease_until = NULL, last_error = NULL, "
        "message = COALESCE($4::jsonb, message) WHERE id = $1",
        delivery_id,
        message_id,
        ctx.clock.now(),
        _kept(message),
    )


async def record_failure(ctx: ServiceContext, row: asyncpg.Record, failure: SendFailed) -> None:
    now = ctx.clock.now()
    if failure.permanent or now - row["created_at"] >= GIVE_UP.get(row["kind"], GIVE_UP_AFTER):
        await ctx.pool.execute(
            "UPDATE notifications.deliveries SET status = 'failed', failed_at = $2, last_error = $3, "
            "lease_until = NULL, message = COALESCE($4::jsonb, message) WHERE id = $1 AND status = 'sending'",
            row["id"],
            now,
            failure.reason,
            _kept(MESSAGE.decode(row["message"])),
        )
        log.warning("message %s failed for good: %s", row["id"], failure.reason)
        return
    await ctx.pool.execute(
        "UPDATE notifications.deliveries SET status = 'queued', next_attempt_at = $2, last_error = $3, "
        "lease_until = NULL WHERE id = $1 AND status = 'sending'",
        row["id"],
        now + retry_delay(row["attempts"]),
        failure.reason,
    )


async def send_one(ctx: ServiceContext, channels: Channels, row: asyncpg.Record) -> None:
    now: datetime = ctx.clock.now()
    if row["reachable"] is False and row["kind"] not in UNCONDITIONAL:
        await record_failure(
            ctx, row, SendFailed("the contact opted out or was removed before it was sent", permanent=True)
        )
        return
    last_inbound = row["last_inbound_at"]
    outgoing = Outgoing(
        delivery_id=row["id"],
        phone=row["phone"],
        language=row["language"],
        message=MESSAGE.decode(row["message"]),
        in_window=last_inbound is not None and now - last_inbound < WINDOW,
    )
    try:
        message_id = await channels.for_contact(row["channel"]).send(outgoing)
    except SendFailed as failure:
        await record_failure(ctx, row, failure)
        return
    await record_sent(ctx, row["id"], message_id, outgoing.message)


async def send_due(ctx: ServiceContext, channels: Channels, presence: Presence | None = None) -> int:
    """Send one batch of due deliveries, a few at a time; returns how many were claimed."""
    rows = await claim(ctx, presence=presence)
    gate = asyncio.Semaphore(AT_ONCE)

    async def one(row: asyncpg.Record) -> None:
        async with gate:
            await send_one(ctx, channels, row)

    results = await asyncio.gather(*(one(row) for row in rows), return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            if is_outage(result):
                raise result  # the lease brings the row back once the database is
            log.error("sending a message failed", exc_info=result)
    return len(rows)


async def listen(ctx: ServiceContext, channel: str, wake: asyncio.Event, presence: Presence | None = None) -> None:
    """Set ``wake`` on each NOTIFY of ``channel`` (the workers poll as well, so a lost connection only delays);
    the same connection holds ``presence``'s lock, which goes with it."""
    assert ctx.settings.database_url
    backoff = Backoff(f"LISTEN {channel} (polling meanwhile)", log)
    while True:
        connection: asyncpg.Connection | None = None
        try:
            # named for the process, so pg_stat_activity tells which replica holds which presence
            name = {"application_name": f"gotong {channel} pid {os.getpid()}"}
            connection = await asyncpg.connect(ctx.settings.database_url, server_settings=name)
            lost = asyncio.Event()
            connection.add_termination_listener(lambda _, lost=lost: lost.set())
            if presence is not None:
                await presence.hold(connection)
            await connection.add_listener(channel, lambda *_: wake.set())
            backoff.succeeded()
            wake.set()
            await lost.wait()
            raise ConnectionError("the LISTEN connection was lost")
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            await backoff.wait(error)
        finally:
            if presence is not None:
                presence.key = None
            if connection is not None:
                connection.terminate()


async def work_when_woken(
    ctx: ServiceContext,
    channel: str,
    what: str,
    step: Callable[[], Awaitable[object]],
    presence: Presence | None = None,
) -> None:
    """Run ``step`` while it finds work (a truthy result), then wait for a NOTIFY on ``channel`` or the next poll;
    outages are waited out with backoff."""
    wake = asyncio.Event()
    listener = asyncio.create_task(listen(ctx, channel, wake, presence), name=f"notifications:{channel}-listener")
    backoff = Backoff(what, log)
    try:
        while True:
            wake.clear()
            if await backoff.retry(step):
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), POLL_SECONDS)
    finally:
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listener


async def sender_worker(ctx: ServiceContext) -> None:
    channels, presence = Channels(settings_of(ctx.store)), Presence()
    try:
        await work_when_woken(
            ctx, CHANNEL, "sending messages", lambda: send_due(ctx, channels, presence), presence=presence
        )
    finally:
        await channels.close()
