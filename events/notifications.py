"""Notifications' events: an MSME's contacts and their consent, and the answers MSMEs give outside the API.

Streams: ``contact-<contact_id>`` (one person to reach at an MSME: added, updated, opted in or out, removed) and
``answer-<answer_id>`` (an MSME's answer to an allocation request given on WhatsApp or the phone page). Pooling
subscribes to ``AnswerGiven``, runs the same accept or decline the API runs and records the outcome as
``pooling.AnswerSettled`` in its own ``answer-<answer_id>`` stream.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from events.base import Event, EventCodec

Language = Literal["id", "en"]
Channel = Literal["whatsapp", "sms", "email"]
ConsentVia = Literal["api", "whatsapp", "web"]
AnswerChannel = Literal["whatsapp", "web"]
Decision = Literal["accept", "decline"]


class ContactAdded(Event, frozen=True, kw_only=True, tag="notifications.ContactAdded.v1"):
    """Someone at an MSME to tell about its allocation requests and lots; ``phone`` is E.164."""

    contact_id: UUID
    msme_id: UUID
    name: str
    role: str
    phone: str
    language: Language
    channel: Channel
    email: str | None = None
    added_by: str
    at: datetime


class ContactUpdated(Event, frozen=True, kw_only=True, tag="notifications.ContactUpdated.v1"):
    """The contact's whole state after a change; ``changed`` names the fields that changed."""

    contact_id: UUID
    msme_id: UUID
    name: str
    role: str
    phone: str
    language: Language
    channel: Channel
    email: str | None = None
    changed: list[str]
    at: datetime


class ContactOptedIn(Event, frozen=True, kw_only=True, tag="notifications.ContactOptedIn.v1"):
    """The contact agreed to be messaged (WhatsApp requires it); ``evidence`` says how it was given."""

    contact_id: UUID
    msme_id: UUID
    phone: str
    via: ConsentVia
    evidence: str
    at: datetime


class ContactOptedOut(Event, frozen=True, kw_only=True, tag="notifications.ContactOptedOut.v1"):
    """The contact asked not to be messaged any more (an API call, or "STOP" on WhatsApp); honoured at once."""

    contact_id: UUID
    msme_id: UUID
    phone: str
    via: ConsentVia
    at: datetime


class ContactRemoved(Event, frozen=True, kw_only=True, tag="notifications.ContactRemoved.v1"):
    contact_id: UUID
    msme_id: UUID
    removed_by: str
    at: datetime


class AnswerGiven(Event, frozen=True, kw_only=True, tag="notifications.AnswerGiven.v1"):
    """An opted-in contact answered an allocation request for its MSME; ``quantity`` None accepts it all."""

    answer_id: UUID
    request_id: UUID
    msme_id: UUID
    contact_id: UUID
    channel: AnswerChannel
    decision: Decision
    quantity: int | None = None
    reason: str | None = None
    message_id: str | None = None
    at: datetime


NotificationsEvent = ContactAdded | ContactUpdated | ContactOptedIn | ContactOptedOut | ContactRemoved | AnswerGiven
CODEC = EventCodec("notifications", NotificationsEvent)
