"""What clients send to notifications, with the bounds each field keeps to (a 400 or 422 names the field)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec

from events.notifications import Channel, Language
from services.notifications.domain.contacts import (
    AddContact,
    ContactChanges,
    ContactDetails,
    UpdateContact,
    normal_phone,
)

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
RoleName = Annotated[str, msgspec.Meta(min_length=1, max_length=100, description="e.g. owner, production lead")]
Phone = Annotated[
    str, msgspec.Meta(min_length=8, max_length=24, description="E.164, e.g. +6281234567890 (spaces and dashes ok)")
]
Email = Annotated[str, msgspec.Meta(min_length=3, max_length=254)]
Evidence = Annotated[
    str,
    msgspec.Meta(min_length=1, max_length=500, description="how the contact agreed, e.g. 'signed form 2027-01-04'"),
]


class ContactBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A person at the MSME to message about its requests and lots; ``opted_in`` records their consent."""

    name: Name
    role: RoleName
    phone: Phone
    language: Language = "id"
    channel: Channel = "whatsapp"
    email: Email | None = None
    opted_in: bool = False
    opt_in_evidence: Evidence | None = None

    def command(self, contact_id: UUID, msme_id: UUID, *, by: str, at: datetime) -> AddContact:
        details = ContactDetails(
            name=self.name,
            role=self.role,
            phone=normal_phone(self.phone),
            language=self.language,
            channel=self.channel,
            email=self.email,
        )
        return AddContact(
            contact_id=contact_id,
            msme_id=msme_id,
            details=details,
            opted_in=self.opted_in,
            evidence=self.opt_in_evidence,
            by=by,
            at=at,
        )


class ContactPatch(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: Name | None = None
    role: RoleName | None = None
    phone: Phone | None = None
    language: Language | None = None
    channel: Channel | None = None
    email: Email | None = None

    def command(self, *, at: datetime) -> UpdateContact:
        phone = normal_phone(self.phone) if self.phone is not None else None
        changes = ContactChanges(
            name=self.name, role=self.role, phone=phone, language=self.language, channel=self.channel, email=self.email
        )
        return UpdateContact(changes=changes, at=at)


class OptInBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    evidence: Evidence
