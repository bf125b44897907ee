"""What notifications answers: contacts and the delivery log."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from services.notifications.domain.contacts import Contact


class ContactView(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    msme_id: UUID
    name: str
    role: str
    phone: str
    language: str
    channel: str
    email: str | None
    opted_in: bool
    version: int
    position: int = 0


def contact_view(state: Contact, version: int, position: int = 0) -> ContactView:
    assert state.contact_id is not None and state.msme_id is not None
    return ContactView(
        id=state.contact_id,
        msme_id=state.msme_id,
        name=state.name,
        role=state.role,
        phone=state.phone,
        language=state.language,
        channel=state.channel,
        email=state.email,
        opted_in=state.opted_in,
        version=version,
        position=position,
    )


def contact_row_view(row: Any) -> ContactView:
    return ContactView(
        id=row["contact_id"],
        msme_id=row["msme_id"],
        name=row["name"],
        role=row["role"],
        phone=row["phone"],
        language=row["language"],
        channel=row["channel"],
        email=row["email"],
        opted_in=row["opted_in"],
        version=row["version"],
    )


class DeliveryView(msgspec.Struct, frozen=True, kw_only=True):
    """One message to one contact: queued → sending → sent → delivered → read, or failed."""

    id: UUID
    trigger: str
    kind: str
    contact_id: UUID
    msme_id: UUID
    phone: str
    channel: str
    language: str
    request_id: UUID | None
    text: str
    status: str
    attempts: int
    provider_message_id: str | None
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None
    read_at: datetime | None
    failed_at: datetime | None


def delivery_view(row: Any) -> DeliveryView:
    message = msgspec.json.decode(row["message"]) if isinstance(row["message"], str) else row["message"]
    return DeliveryView(
        id=row["id"],
        trigger=row["trigger"],
        kind=row["kind"],
        contact_id=row["contact_id"],
        msme_id=row["msme_id"],
        phone=row["phone"],
        channel=row["channel"],
        language=row["language"],
        request_id=row["request_id"],
        text=str(message.get("text", "")),
        status=row["status"],
        attempts=row["attempts"],
        provider_message_id=row["provider_message_id"],
        last_error=row["last_error"],
        created_at=row["created_at"],
        sent_at=row["sent_at"],
        delivered_at=row["delivered_at"],
        read_at=row["read_at"],
        failed_at=row["failed_at"],
    )
