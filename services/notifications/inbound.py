"""What MSMEs send on WhatsApp, stored once from the webhook and processed after by a worker.

``store_notification`` keeps each message (``message:<id>``) and each status (``status:<id>:<status>``) of a
notification once, so Meta's redeliveries change nothing, and wakes the worker (NOTIFY, with polling as the
fallback). The worker takes stored entries one at a time ``FOR UPDATE SKIP LOCKED`` (any replica, each once)
and handles each in one transaction: a status moves its delivery forward (sent → delivered → read, or failed;
never back); a message becomes an answer, an opt-out or opt-in, or a polite reply. The phone number is the
identity: only an opted-in contact of the request's MSME can answer for it.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from events.notifications import Decision
from services.notifications.deliveries import enqueue
from services.notifications.domain import messages, replies
from services.notifications.domain.contacts import OptIn, OptOut
from services.notifications.domain.outbound import OutboundMessage
from services.notifications.sender import work_when_woken
from services.notifications.use_cases import contacts as contact_use
from services.notifications.use_cases.answers import answerer_for, give
from shared.eventstore import Connection, Metadata
from shared.kernel.errors import NotFound
from shared.outages import is_outage
from shared.service import ServiceContext

log = logging.getLogger("gotong.notifications")
WAKE = "notifications_inbound"
S = "notifications"
_RANK = {"queued": 0, "sending": 0, "sent": 1, "failed": 1, "delivered": 2, "read": 3}


def _entries(notification: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(key, kind, raw) of each message and status in a WhatsApp Business Account notification."""
    found: list[tuple[str, str, dict[str, Any]]] = []
    for entry in notification.get("entry") or []:
        for change in (entry.get("changes") or []) if isinstance(entry, dict) else []:
            value = change.get("value") if isinstance(change, dict) else None
            if not isinstance(value, dict):
                continue
            profiles = value.get("contacts") or []
            for message in value.get("messages") or []:
                if isinstance(message, dict) and isinstance(message.get("id"), str) and message.get("from"):
                    raw = {"message": message, "contacts": profiles}
                    found.append((f"message:{message['id'][:300]}", "message", raw))
            for status in value.get("statuses") or []:
                if isinstance(status, dict) and isinstance(status.get("id"), str) and status.get("status"):
                    found.append((f"status:{status['id'][:300]}:{str(status['status'])[:20]}", "status", status))
    return found


async def store_notification(ctx: ServiceContext, notification: dict[str, Any]) -> int:
    """Keep what is new in the notification; returns how many entries were new."""
    entries = _entries(notification)
    if not entries:
        return 0
    now = ctx.clock.now()
    async with ctx.pool.acquire() as connection, connection.transaction():
        stored = await connection.fetchval(
            f"WITH new AS (INSERT INTO {S}.inbound_messages (id, kind, raw, received_at) "
            "SELECT key, kind, raw::jsonb, $4 FROM unnest($1::text[], $2::text[], $3::text[]) AS t(key, kind, raw) "
            "ON CONFLICT (id) DO NOTHING RETURNING 1) SELECT count(*) FROM new",
            [key for key, _, _ in entries],
            [kind for _, kind, _ in entries],
            [msgspec.json.encode(raw).decode() for _, _, raw in entries],
            now,
        )
        if stored:
            await connection.execute(f"SELECT pg_notify('{WAKE}', '')")
    return int(stored or 0)


async def apply_status(connection: Connection, status: dict[str, Any], at: Any) -> str:
    """Move the delivery the status names forward; a status that would move it back changes nothing."""
    state = str(status.get("status"))
    if state not in ("sent", "delivered", "read", "failed"):
        return "ignored"
    delivery_id: UUID | None = None
    with contextlib.suppress(ValueError, TypeError):
        delivery_id = UUID(str(status.get("biz_opaque_callback_data")))
    row = await connection.fetchrow(
        f"SELECT id, status FROM {S}.deliveries WHERE id = $1 OR provider_message_id = $2 LIMIT 1 FOR UPDATE",
        delivery_id,
        str(status.get("id")),
    )
    if row is None:
        return "unknown delivery"
    current = row["status"]
    forward = current in ("queued", "sending", "sent") if state == "failed" else _RANK[state] > _RANK[current]
    if not forward:
        return "no change"
    error = ""
    errors = status.get("errors") or []
    if errors and isinstance(errors[0], dict):
        error = f"code {errors[0].get('code')}: {errors[0].get('title') or errors[0].get('message') or ''}"[:500]
    column = {"sent": "sent_at", "delivered": "delivered_at", "read": "read_at", "failed": "failed_at"}[state]
    await connection.execute(
        f"UPDATE {S}.deliveries SET status = $2, {column} = COALESCE({column}, $3), "
        "provider_message_id = COALESCE(provider_message_id, $4), "
        "last_error = CASE WHEN $2 = 'failed' THEN $5 ELSE last_error END, lease_until = NULL WHERE id = $1",
        row["id"],
        state,
        at,
        str(status.get("id")),
        error or None,
    )
    return state


def intent_of(message: dict[str, Any]) -> replies.Intent:
    kind = message.get("type")
    if kind == "interactive":
        reply = (message.get("interactive") or {}).get("button_reply") or {}
        return replies.read_button(str(reply.get("id", "")))
    if kind == "button":
        button = message.get("button") or {}
        return replies.read_button(str(button.get("payload", "")))
    if kind == "text":
        return replies.read_text(str((message.get("text") or {}).get("body", "")))
    return replies.Unclear()


class _Recipient:
    def __init__(self, row: asyncpg.Record) -> None:
        self.contact_id: UUID = row["contact_id"]
        self.msme_id: UUID = row["msme_id"]
        self.phone: str = row["phone"]
        self.channel: str = row["channel"]
        self.language: str = row["language"]


class Conversation:
    """One inbound message being handled: who wrote, what Gotong knows of the phone, how to answer."""

    def __init__(self, ctx: ServiceContext, connection: Connection, message: dict[str, Any]) -> None:
        self.ctx = ctx
        self.connection = connection
        self.message = message
        self.message_id = str(message.get("id"))
        digits = "".join(ch for ch in str(message.get("from", "")) if ch.isdigit())[:15]
        self.phone = f"+{digits}"
        self.at = ctx.clock.now()
        self.metadata = Metadata(
            correlation_id=self.message_id, actor=f"whatsapp:{self.phone}", command_id=f"whatsapp:{self.message_id}"
        )

    async def contacts(self, *, opted_in: bool | None = True) -> list[asyncpg.Record]:
        rows = await self.connection.fetch(
            f"SELECT contact_id, msme_id, phone, channel, language, opted_in FROM {S}.contacts "
            "WHERE phone = $1 AND NOT removed ORDER BY contact_id",
            self.phone,
        )
        return [r for r in rows if opted_in is None or r["opted_in"] == opted_in]

    async def reply(self, to: asyncpg.Record, message: OutboundMessage, kind: str = "reply") -> None:
        await enqueue(
            self.connection, trigger=f"reply:{self.message_id}", contact=_Recipient(to), kind=kind, message=message,
            at=self.at,
        )  # fmt: skip

    async def say(self, to: asyncpg.Record, key: str, kind: str = "reply") -> None:
        await self.reply(to, messages.update_message(messages.reply_text(to["language"], key), to["language"]), kind)

    async def conversation(self) -> dict[str, Any]:
        row = await self.connection.fetchrow(
            f"INSERT INTO {S}.conversations (phone, last_inbound_at) VALUES ($1, $2) "
            "ON CONFLICT (phone) DO UPDATE SET last_inbound_at = GREATEST(conversations.last_inbound_at, $2) "
            "RETURNING awaiting::text AS awaiting, last_request_id",
            self.phone,
            self.at,
        )
        assert row is not None
        return {"awaiting": msgspec.json.decode(row["awaiting"]) if row["awaiting"] else None,
                "last_request_id": row["last_request_id"]}  # fmt: skip

    async def remember(self, request_id: UUID | None, awaiting: dict[str, Any] | None) -> None:
        await self.connection.execute(
            f"UPDATE {S}.conversations SET awaiting = $2::jsonb, last_request_id = COALESCE($3, last_request_id) "
            "WHERE phone = $1",
            self.phone,
            msgspec.json.encode(awaiting).decode() if awaiting else None,
            request_id,
        )

    async def latest_pending(self) -> UUID | None:
        found: UUID | None = await self.connection.fetchval(
            f"SELECT r.request_id FROM {S}.requests r JOIN {S}.contacts c ON c.msme_id = r.msme_id "
            "WHERE c.phone = $1 AND c.opted_in AND NOT c.removed AND r.status = 'pending' "
            "ORDER BY r.requested_at DESC, r.request_id DESC LIMIT 1",
            self.phone,
        )
        return found


async def handle_message(ctx: ServiceContext, connection: Connection, raw: dict[str, Any]) -> str:
    """Turn one inbound message into what it means; returns a short outcome for the inbound log."""
    talk = Conversation(ctx, connection, raw["message"])
    intent = intent_of(raw["message"])
    state = await talk.conversation()
    if isinstance(intent, replies.Stop):
        return await _opt_out(talk)
    if isinstance(intent, replies.Start):
        return await _opt_in(talk)
    known = await talk.contacts()
    if not known:
        return "not an opted-in contact"
    awaiting = state["awaiting"] or {}
    match intent:
        case replies.Quantity(quantity=told) if awaiting.get("expects") == "part_quantity":
            intent = replies.AcceptPart(request_id=UUID(awaiting["request_id"]), quantity=told)
        case replies.Quantity() | replies.Unclear():
            await talk.say(known[0], "unknown")
            return "unclear"
    assert isinstance(intent, replies.AcceptAll | replies.AcceptPart | replies.Decline)
    request_id = intent.request_id or state["last_request_id"] or await talk.latest_pending()
    if request_id is None:
        await talk.say(known[0], "no_request")
        return "no request"
    try:
        answerer = await answerer_for(connection, talk.phone, request_id)
    except NotFound:
        await talk.say(known[0], "no_request")
        return f"not a request of this phone's MSMEs: {request_id}"
    if isinstance(intent, replies.AcceptPart) and intent.quantity is None:
        await talk.remember(request_id, {"request_id": str(request_id), "expects": "part_quantity"})
        await talk.say(next(r for r in known if r["contact_id"] == answerer.contact_id), "ask_quantity")
        return "asked how many"
    decision: Decision = "decline" if isinstance(intent, replies.Decline) else "accept"
    quantity: int | None = intent.quantity if isinstance(intent, replies.AcceptPart) else None
    answer_id = await give(
        ctx.store, connection, request_id=request_id, answerer=answerer, channel="whatsapp", decision=decision,
        quantity=quantity, reason="declined on WhatsApp" if decision == "decline" else None,
        message_id=talk.message_id, at=talk.at, metadata=talk.metadata,
    )  # fmt: skip
    await talk.remember(request_id, None)
    return f"answer {answer_id}: {decision}" + (f" {quantity}" if quantity else "")


async def _opt_out(talk: Conversation) -> str:
    """STOP / BERHENTI: every contact with this phone stops getting messages, at once."""
    opted = await talk.contacts(opted_in=True)
    for row in opted:
        command = OptOut(via="whatsapp", at=talk.at)
        await contact_use.change(
            talk.ctx.store, None, row["contact_id"], command, metadata=talk.metadata, connection=talk.connection
        )
        await _set_opted_in(talk.connection, row["contact_id"], False, talk.at)
    if opted:
        await talk.say(opted[0], "opted_out", kind="consent")
    return f"opted out {len(opted)}"


async def _opt_in(talk: Conversation) -> str:
    """MULAI / START: contacts with this phone that opted out are messaged again (their consent, in writing)."""
    waiting = await talk.contacts(opted_in=False)
    evidence = f"wrote to opt in on WhatsApp (message {talk.message_id[:100]})"
    for row in waiting:
        command = OptIn(via="whatsapp", evidence=evidence, at=talk.at)
        await contact_use.change(
            talk.ctx.store, None, row["contact_id"], command, metadata=talk.metadata, connection=talk.connection
        )
        await _set_opted_in(talk.connection, row["contact_id"], True, talk.at)
    if waiting:
        await talk.say(waiting[0], "opted_in", kind="consent")
    return f"opted in {len(waiting)}"


async def _set_opted_in(connection: Connection, contact_id: UUID, opted_in: bool, at: Any) -> None:
    """The read model follows at once, so nothing is queued for the contact in the meantime (the projection
    writes the same values when it gets to the event)."""
    column = "opted_in_at" if opted_in else "opted_out_at"
    await connection.execute(
        f"UPDATE {S}.contacts SET opted_in = $2, {column} = $3 WHERE contact_id = $1", contact_id, opted_in, at
    )


async def process_next(ctx: ServiceContext) -> bool:
    """Handle the oldest unprocessed inbound entry, if any; False when there is none.

    The read models first catch up with everything recorded so far, so a contact added (or opted in) a moment
    before its message arrived is known to it: a STOP right after the contact was added still stops it."""
    head = await ctx.pool.fetchval(f"SELECT max(position) FROM {S}.events")
    if head:
        await ctx.projector.wait_for(head, timeout=5.0)
    async with ctx.pool.acquire() as connection, connection.transaction():
        row = await connection.fetchrow(
            f"SELECT id, kind, raw::text AS raw FROM {S}.inbound_messages WHERE processed_at IS NULL "
            "ORDER BY received_at, id LIMIT 1 FOR UPDATE SKIP LOCKED"
        )
        if row is None:
            return False
        raw: dict[str, Any] = msgspec.json.decode(row["raw"])
        try:
            async with connection.transaction():  # a savepoint: a failure undoes only this entry's work
                if row["kind"] == "status":
                    outcome = await apply_status(connection, raw, ctx.clock.now())
                else:
                    outcome = await handle_message(ctx, connection, raw)
        except Exception as error:
            if is_outage(error):
                raise
            log.exception("inbound WhatsApp entry %s could not be handled", row["id"])
            outcome = f"error: {type(error).__name__}"
        await connection.execute(
            f"UPDATE {S}.inbound_messages SET processed_at = $2, outcome = $3 WHERE id = $1",
            row["id"],
            ctx.clock.now(),
            outcome[:500],
        )
    ctx.store.committed()
    return True


async def inbound_worker(ctx: ServiceContext) -> None:
    await work_when_woken(ctx, WAKE, "processing WhatsApp messages", lambda: process_next(ctx))
