"""Request bodies of accounts' routes: strict structs, so every bad field is named in one 422."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from events.accounts import MemberRole, OrganisationKind
from shared.kernel.scopes import Scope

OrgId = Annotated[str, msgspec.Meta(min_length=2, max_length=100, pattern=r"^[a-z0-9][a-z0-9._-]*$")]
"""An organisation's id, the ``org`` claim of its people's tokens: lower-case letters, digits, ``.``, ``_``, ``-``."""
Subject = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
Email = Annotated[str, msgspec.Meta(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Token = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
MAX_INVITATION_HOURS = 24 * 30


class FirstAdmin(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The person who will administer the new organisation."""

    subject: Subject
    email: Email | None = None
    role: MemberRole | None = None


class NewOrganisation(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    org: OrgId
    kind: OrganisationKind
    name: Name
    first_admin: FirstAdmin


class MembershipIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A member's whole membership: role and whether they administer the organisation."""

    subject: Subject
    role: MemberRole
    org_admin: bool = False
    email: Email | None = None


class MembershipChange(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    role: MemberRole
    org_admin: bool = False
    email: Email | None = None


class InvitationIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Invite one person, by e-mail or by the subject their sign-in will carry."""

    email: Email | None = None
    subject: Subject | None = None
    role: MemberRole
    org_admin: bool = False
    expires_in_hours: Annotated[int, msgspec.Meta(ge=1, le=MAX_INVITATION_HOURS)] = 72


class Acceptance(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    token: Token


class ApiKeyIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: Name
    scopes: Annotated[list[Scope], msgspec.Meta(min_length=1, max_length=len(Scope))]
    expires_at: datetime | None = None
