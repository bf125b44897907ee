"""What accounts' routes answer: organisations with their members, invitations and API keys."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from events.accounts import MemberRole, OrganisationKind
from services.accounts.domain.organisation import ApiKey, Invitation, Member, Organisation


class MemberView(msgspec.Struct, frozen=True, kw_only=True):
    subject: str
    role: MemberRole
    org_admin: bool
    email: str | None
    since: datetime


class OrganisationView(msgspec.Struct, frozen=True, kw_only=True):
    org: str
    kind: OrganisationKind
    name: str
    members: list[MemberView]
    version: int
    position: int = 0


class OrganisationSummary(msgspec.Struct, frozen=True, kw_only=True):
    org: str
    kind: OrganisationKind
    name: str
    registered_at: datetime


class InvitationView(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    org: str
    email: str | None
    subject: str | None
    role: MemberRole
    org_admin: bool
    status: str
    expires_at: datetime
    invited_by: str
    sent_at: datetime
    accepted_by: str | None


class NewInvitation(msgspec.Struct, frozen=True, kw_only=True):
    """An invitation just sent, with the token to hand to the invitee (shown this once)."""

    token: str
    invitation: InvitationView
    version: int
    position: int


class ApiKeyView(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    org: str
    name: str
    role: MemberRole
    scopes: list[str]
    status: str
    expires_at: datetime | None
    created_by: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class NewApiKey(msgspec.Struct, frozen=True, kw_only=True):
    """A key just made: ``key`` (``gk_<id>_<secret>``) is shown this once and never again."""

    key: str
    api_key: ApiKeyView
    version: int
    position: int


def member_view(member: Member) -> MemberView:
    return MemberView(
        subject=member.subject, role=member.role, org_admin=member.org_admin, email=member.email, since=member.since
    )


def organisation_view(state: Organisation, version: int, position: int = 0) -> OrganisationView:
    members = [member_view(m) for _, m in sorted(state.members.items())]
    return OrganisationView(
        org=state.org, kind=state.kind, name=state.name, members=members, version=version, position=position
    )


def invitation_view(org: str, invitation: Invitation, now: datetime) -> InvitationView:
    return InvitationView(
        id=invitation.invitation_id,
        org=org,
        email=invitation.email,
        subject=invitation.subject,
        role=invitation.role,
        org_admin=invitation.org_admin,
        status=invitation.status(now),
        expires_at=invitation.expires_at,
        invited_by=invitation.invited_by,
        sent_at=invitation.sent_at,
        accepted_by=invitation.accepted_by,
    )


def api_key_view(org: str, key: ApiKey, now: datetime, last_used_at: datetime | None) -> ApiKeyView:
    if key.revoked_at is not None:
        status = "revoked"
    elif key.expires_at is not None and key.expires_at <= now:
        status = "expired"
    else:
        status = "active"
    return ApiKeyView(
        id=key.key_id,
        org=org,
        name=key.name,
        role=key.role,
        scopes=list(key.scopes),
        status=status,
        expires_at=key.expires_at,
        created_by=key.created_by,
        created_at=key.created_at,
        revoked_at=key.revoked_at,
        last_used_at=last_used_at,
    )


class AuditEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One thing someone did for the organisation: who (``<role>:<subject>`` for a person, ``key:<id>`` for an
    API key), when, in which service, the event it recorded and the stream it changed; entries of one request
    or flow share their ``correlation_id``."""

    at: datetime
    actor: str
    service: str
    event_type: str
    stream_id: str
    stream_version: int
    event_id: UUID
    correlation_id: str | None
