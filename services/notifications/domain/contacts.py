"""The contact aggregate (stream ``contact-<contact_id>``): a person to reach at an MSME, and their consent.

A contact is messaged only while opted in and not removed; opting out is honoured at once, whoever asks (the
MSME's owner through the API, or the contact itself by answering "STOP" on WhatsApp).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import get_args
from uuid import UUID

import msgspec

from events.notifications import (
    Channel,
    ConsentVia,
    ContactAdded,
    ContactOptedIn,
    ContactOptedOut,
    ContactRemoved,
    ContactUpdated,
    Language,
)
from shared.kernel.decider import Decider
from shared.kernel.errors import Conflict, FieldError, InvalidInput, NotFound

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
LANGUAGES: tuple[str, ...] = get_args(Language)
CHANNELS: tuple[str, ...] = get_args(Channel)

ContactEvent = ContactAdded | ContactUpdated | ContactOptedIn | ContactOptedOut | ContactRemoved


def contact_stream(contact_id: UUID) -> str:
    return f"contact-{contact_id}"


def normal_phone(raw: str) -> str:
    """``+62 812-3456-789`` → ``+628123456789``: spaces, dashes, dots and brackets are dropped."""
    return re.sub(r"[\s().-]", "", raw)


@dataclass(frozen=True)
class Contact:
    contact_id: UUID | None = None
    msme_id: UUID | None = None
    name: str = ""
    role: str = ""
    phone: str = ""
    language: Language = "id"
    channel: Channel = "whatsapp"
    email: str | None = None
    opted_in: bool = False
    removed: bool = False

    @property
    def exists(self) -> bool:
        return self.contact_id is not None and not self.removed


class ContactDetails(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    role: str
    phone: str
    language: Language = "id"
    channel: Channel = "whatsapp"
    email: str | None = None


class AddContact(msgspec.Struct, frozen=True, kw_only=True):
    contact_id: UUID
    msme_id: UUID
    details: ContactDetails
    opted_in: bool
    evidence: str | None
    by: str
    at: datetime


class ContactChanges(msgspec.Struct, frozen=True, kw_only=True):
    """What an update changes; ``None`` leaves a field as it is (``email`` cannot be cleared with None)."""

    name: str | None = None
    role: str | None = None
    phone: str | None = None
    language: Language | None = None
    channel: Channel | None = None
    email: str | None = None


class UpdateContact(msgspec.Struct, frozen=True, kw_only=True):
    changes: ContactChanges
    at: datetime


class OptIn(msgspec.Struct, frozen=True, kw_only=True):
    via: ConsentVia
    evidence: str
    at: datetime


class OptOut(msgspec.Struct, frozen=True, kw_only=True):
    via: ConsentVia
    at: datetime


class RemoveContact(msgspec.Struct, frozen=True, kw_only=True):
    by: str
    at: datetime


ContactCommand = AddContact | UpdateContact | OptIn | OptOut | RemoveContact
_FIELDS = ("name", "role", "phone", "language", "channel", "email")


def details_errors(details: ContactDetails) -> list[FieldError]:
    errors: list[FieldError] = []
    if not details.name.strip():
        errors.append(FieldError("name", "must not be blank"))
    if not details.role.strip():
        errors.append(FieldError("role", "must not be blank, e.g. owner or production lead"))
    if not E164.match(details.phone):
        errors.append(FieldError("phone", "must be a phone number in E.164 form, e.g. +6281234567890"))
    if details.email is not None and not EMAIL.match(details.email):
        errors.append(FieldError("email", "must be an email address"))
    if details.channel == "email" and details.email is None:
        errors.append(FieldError("email", "is required when the channel is email"))
    return errors


def _add(command: AddContact, state: Contact) -> list[ContactEvent]:
    if state.contact_id is not None:
        raise Conflict(f"contact {command.contact_id} already exists", problem="already-exists")
    details = command.details
    errors = details_errors(details)
    if command.opted_in and not (command.evidence or "").strip():
        errors.append(FieldError("opt_in_evidence", "say how the contact agreed to be messaged"))
    if errors:
        raise InvalidInput(errors)
    added = ContactAdded(
        contact_id=command.contact_id,
        msme_id=command.msme_id,
        name=details.name.strip(),
        role=details.role.strip(),
        phone=details.phone,
        language=details.language,
        channel=details.channel,
        email=details.email,
        added_by=command.by,
        at=command.at,
    )
    if not command.opted_in:
        return [added]
    consent = ContactOptedIn(
        contact_id=command.contact_id,
        msme_id=command.msme_id,
        phone=details.phone,
        via="api",
        evidence=(command.evidence or "").strip(),
        at=command.at,
    )
    return [added, consent]


def _found(state: Contact) -> tuple[UUID, UUID]:
    if not state.exists or state.contact_id is None or state.msme_id is None:
        raise NotFound("no such contact")
    return state.contact_id, state.msme_id


def _update(command: UpdateContact, state: Contact) -> list[ContactEvent]:
    contact_id, msme_id = _found(state)
    current = {f: getattr(state, f) for f in _FIELDS}
    wanted = {f: v for f in _FIELDS if (v := getattr(command.changes, f)) is not None}
    merged = ContactDetails(**(current | wanted))
    if errors := details_errors(merged):
        raise InvalidInput(errors)
    changed = [f for f in _FIELDS if getattr(merged, f) != current[f]]
    if not changed:
        return []
    return [
        ContactUpdated(
            contact_id=contact_id,
            msme_id=msme_id,
            name=merged.name.strip(),
            role=merged.role.strip(),
            phone=merged.phone,
            language=merged.language,
            channel=merged.channel,
            email=merged.email,
            changed=changed,
            at=command.at,
        )
    ]


def decide(command: ContactCommand, state: Contact) -> list[ContactEvent]:
    match command:
        case AddContact():
            return _add(command, state)
        case UpdateContact():
            return _update(command, state)
        case OptIn(via=via, evidence=evidence, at=at):
            contact_id, msme_id = _found(state)
            if state.opted_in:
                return []
            if not evidence.strip():
                raise InvalidInput.of("evidence", "say how the contact agreed to be messaged")
            return [ContactOptedIn(contact_id=contact_id, msme_id=msme_id, phone=state.phone, via=via,
                                   evidence=evidence.strip(), at=at)]  # fmt: skip
        case OptOut(via=via, at=at):
            contact_id, msme_id = _found(state)
            if not state.opted_in:
                return []
            return [ContactOptedOut(contact_id=contact_id, msme_id=msme_id, phone=state.phone, via=via, at=at)]
        case RemoveContact(by=by, at=at):
            contact_id, msme_id = _found(state)
            return [ContactRemoved(contact_id=contact_id, msme_id=msme_id, removed_by=by, at=at)]


def evolve(state: Contact, event: ContactEvent) -> Contact:
    match event:
        case ContactAdded() | ContactUpdated():
            return replace(
                state,
                contact_id=event.contact_id,
                msme_id=event.msme_id,
                name=event.name,
                role=event.role,
                phone=event.phone,
                language=event.language,
                channel=event.channel,
                email=event.email,
            )
        case ContactOptedIn():
            return replace(state, opted_in=True)
        case ContactOptedOut():
            return replace(state, opted_in=False)
        case ContactRemoved():
            return replace(state, removed=True, opted_in=False)


CONTACT: Decider[ContactCommand, Contact, ContactEvent] = Decider("contact", Contact(), decide, evolve)
