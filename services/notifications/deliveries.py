"""The MSMEs' delivery outbox: what to send to whom, queued in the transaction that decided it.

``enqueue`` inserts one row per (trigger, contact) — the trigger is the id of what caused the message (an
event id, a due action, a sign-in code) — so a redelivered event, a restart or a second replica never queues
a message twice. The sender worker (``services.notifications.sender``) sends the rows later, outside any
handler, so nothing that triggers a message waits for a channel.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Protocol
from uuid import UUID

import msgspec

from shared.eventstore import Connection
from shared.kernel.ids import new_id

ButtonId = Annotated[str, msgspec.Meta(max_length=256)]
ButtonTitle = Annotated[str, msgspec.Meta(max_length=20)]


class ReplyButton(msgspec.Struct, frozen=True, kw_only=True):
    """A quick-reply button: WhatsApp sends ``id`` back when it is tapped; ``title`` is what the MSME sees."""

    id: ButtonId
    title: ButtonTitle


class TemplateCall(msgspec.Struct, frozen=True, kw_only=True):
    """An approved template, used outside the 24-hour window: its body parameters and button payloads."""

    name: str
    language: str
    parameters: list[str] = msgspec.field(default_factory=list)
    button_payloads: list[str] = msgspec.field(default_factory=list)


class OutboundMessage(msgspec.Struct, frozen=True, kw_only=True):
    """A message in the recipient's language: text, up to three reply buttons and a link to the phone page."""

    text: str
    buttons: list[ReplyButton] = msgspec.field(default_factory=list)
    link: str | None = None
    template: TemplateCall | None = None

    def __post_init__(self) -> None:
        if len(self.buttons) > 3:
            raise ValueError("a message carries at most three reply buttons")

    def full_text(self) -> str:
        """The text with its link on a line of its own."""
        return f"{self.text}\n\n{self.link}" if self.link else self.text


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


MESSAGE = msgspec.json.Decoder(OutboundMessage)
