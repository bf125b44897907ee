"""The sender: a worker that sends queued deliveries through their channel, once each, across replicas.

It claims due rows ``FOR UPDATE SKIP LOCKED``, marks them ``sending`` with a lease and commits, then calls the
channel with no transaction open, and records the outcome: ``sent`` with the provider's message id, or a retry
with backoff (1 s doubling to 15 min), or ``failed`` on a permanent error or after 24 hours of trying. A lease
that runs out (the process died mid-send) makes the row due again. The worker wakes on the outbox's NOTIFY and
polls as a fallback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from services.notifications.channels import Channel, Outgoing, SendFailed
from services.notifications.channels.log import LogChannel
from services.notifications.channels.whatsapp import WhatsAppChannel
from services.notifications.domain.outbound import MESSAGE
from services.notifications.settings import NotificationSettings, settings_of
from shared.outages import Backoff, is_outage
from shared.service import ServiceContext

log = logging.getLogger("gotong.notifications")
CHANNEL = "notifications_outbox"
LEASE = timedelta(seconds=60)
FIRST_RETRY = timedelta(seconds=1)
LAST_RETRY = timedelta(minutes=15)
GIVE_UP_AFTER = timedelta(hours=24)
WINDOW = timedelta(hours=24)
BATCH = 20
AT_ONCE = 8
POLL_SECONDS = 0.5
UNCONDITIONAL = ("consent", "sign_in")
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


async def claim(ctx: ServiceContext, limit: int = BATCH) -> list[asyncpg.Record]:
    """Lease the due deliveries: queued ones whose time came, and ``sending`` ones whose lease ran out."""
    now = ctx.clock.now()
    rows: list[asyncpg.Record] = await ctx.pool.fetch(
        """UPDATE notifications.deliveries d SET status = 'sending', lease_until = $2, attempts = d.attempts + 1
           FROM (SELECT id FROM notifications.deliveries
                 WHERE (status = 'queued' AND next_attempt_at <= $1) OR (status = 'sending' AND lease_until < $1)
                 ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED) due
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
    )
    return rows


async def record_sent(ctx: ServiceContext, delivery_id: Any, message_id: str) -> None:
    """Sent, unless a status callback (which names the delivery) already moved it further."""
    await ctx.pool.execute(
        "UPDATE notifications.deliveries SET status = CASE WHEN status = 'sending' THEN 'sent' ELSE status END, "
        "provider_message_id = $2, sent_at = COALESCE(sent_at, $3), lease_until = NULL, last_error = NULL "
        "WHERE id = $1",
        delivery_id,
        message_id,
        ctx.clock.now(),
    )


async def record_failure(ctx: ServiceContext, row: asyncpg.Record, failure: SendFailed) -> None:
    now = ctx.clock.now()
    if failure.permanent or now - row["created_at"] >= GIVE_UP_AFTER:
        await ctx.pool.execute(
            "UPDATE notifications.deliveries SET status = 'failed', failed_at = $2, last_error = $3, "
            "lease_until = NULL WHERE id = $1 AND status = 'sending'",
            row["id"],
            now,
            failure.reason,
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
    await record_sent(ctx, row["id"], message_id)


async def send_due(ctx: ServiceContext, channels: Channels) -> int:
    """Send one batch of due deliveries, a few at a time; returns how many were claimed."""
    rows = await claim(ctx)
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


async def listen(ctx: ServiceContext, channel: str, wake: asyncio.Event) -> None:
    """Set ``wake`` on each NOTIFY of ``channel`` (the workers poll as well, so a lost connection only delays)."""
    assert ctx.settings.database_url
    backoff = Backoff(f"LISTEN {channel} (polling meanwhile)", log)
    while True:
        connection: asyncpg.Connection | None = None
        try:
            connection = await asyncpg.connect(ctx.settings.database_url)
            lost = asyncio.Event()
            connection.add_termination_listener(lambda _, lost=lost: lost.set())
            await connection.add_listener(channel, lambda *_: wake.set())
            backoff.succeeded()
            wake.set()
            await lost.wait()
            raise ConnectionError("the LISTEN connection was lost")
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            await backoff.wait(error)
        finally:
            if connection is not None:
                connection.terminate()


async def sender_worker(ctx: ServiceContext) -> None:
    channels = Channels(settings_of(ctx.store))
    wake = asyncio.Event()
    listener = asyncio.create_task(listen(ctx, CHANNEL, wake), name="notifications:outbox-listener")
    backoff = Backoff("sending messages", log)
    try:
        while True:
            wake.clear()
            if await backoff.retry(lambda: send_due(ctx, channels)):
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), POLL_SECONDS)
    finally:
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listener
        await channels.close()
