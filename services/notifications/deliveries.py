"""The MSMEs' delivery outbox: what to send to whom, queued in the transaction that decided it.

``enqueue`` inserts one row per (trigger, contact) — the trigger is the id of what caused the message (an
event id, a due action, a sign-in code) — so a redelivered event, a restart or a second replica never queues
a message twice. The sender worker (``services.notifications.sender``) sends the rows later, outside any
handler, so nothing that triggers a message waits for a channel.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol
from uuid import UUID

import msgspec

from services.notifications.domain.outbound import OutboundMessage, ReplyButton, TemplateCall
from shared.eventstore import Connection
from shared.kernel.ids import new_id


class Recipient(Protocol):
    """Whom a message goes to: a contact row (or anything shaped like one)."""

    @property
    def contact_id(self) -> UUID: ...
    @property
    def msme_id(self) -> UUID: ...
    @property
    def phone(self) -> str: ...
    @property
    def channel(self) -> str: ...
    @property
    def language(self) -> str: ...


async def enqueue(
    connection: Connection,
    *,
    trigger: str,
    contact: Recipient,
    kind: str,
    message: OutboundMessage,
    request_id: UUID | None = None,
    at: datetime | None = None,
) -> bool:
    """Queue ``message`` for ``contact`` once per ``trigger``; True when queued now, False if it already was.

    ``at`` (the service clock's now; the database's if None) is when it is first due.
    """
    queued = await connection.fetchval(
        "INSERT INTO notifications.deliveries (id, trigger, contact_id, msme_id, phone, channel, language, kind, "
        "request_id, message, status, attempts, next_attempt_at, created_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, 'queued', 0, "
        "COALESCE($11, now()), COALESCE($11, now())) "
        "ON CONFLICT (trigger, contact_id) DO NOTHING RETURNING true",
        new_id(),
        trigger,
        contact.contact_id,
        contact.msme_id,
        contact.phone,
        contact.channel,
        contact.language,
        kind,
        request_id,
        msgspec.json.encode(message).decode(),
        at,
    )
    if queued:
        await connection.execute("SELECT pg_notify('notifications_outbox', '')")
    return bool(queued)


__all__ = ["OutboundMessage", "Recipient", "ReplyButton", "TemplateCall", "enqueue"]
