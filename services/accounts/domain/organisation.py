"""The organisation aggregate: its members and their roles, invitations, and API keys (one stream per organisation).

Rules:
- an organisation's members have the roles its kind allows (a buyer organisation's people are buyers; an
  aggregator's are aggregators or its own quality staff, inspectors; …);
- it always keeps at least one organisation admin: the last one can be neither removed nor demoted;
- an invitation is accepted once, with its token, before it expires, by the subject it names (if it names one);
- an API key acts with the organisation's role and holds only scopes of that role; a revoked key stays revoked.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import assert_never
from uuid import UUID

import msgspec

from events.accounts import (
    ApiKeyCreated,
    ApiKeyRevoked,
    InvitationAccepted,
    InvitationSent,
    InvitationWithdrawn,
    MemberRole,
    MembershipGranted,
    MembershipRevoked,
    OrganisationKind,
    OrganisationRegistered,
)
from shared.kernel.decider import Decider
from shared.kernel.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from shared.kernel.scopes import scopes_for

ROLES_OF_KIND: dict[str, tuple[MemberRole, ...]] = {
    "buyer": ("buyer",),
    "aggregator": ("aggregator", "inspector"),
    "msme": ("msme",),
    "inspection_body": ("inspector",),
}
KEY_ROLE: dict[str, MemberRole] = {
    "buyer": "buyer",
    "aggregator": "aggregator",
    "msme": "msme",
    "inspection_body": "inspector",
}
"""The role an organisation's API keys act with."""

OrganisationEvent = (
    OrganisationRegistered
    | MembershipGranted
    | MembershipRevoked
    | InvitationSent
    | InvitationAccepted
    | InvitationWithdrawn
    | ApiKeyCreated
    | ApiKeyRevoked
)


@dataclass(frozen=True)
class Member:
    subject: str
    role: MemberRole
    org_admin: bool
    email: str | None
    since: datetime


@dataclass(frozen=True)
class Invitation:
    invitation_id: UUID
    email: str | None
    subject: str | None
    role: MemberRole
    org_admin: bool
    token_hash: str
    expires_at: datetime
    invited_by: str
    sent_at: datetime
    accepted_by: str | None = None
    withdrawn: bool = False

    def status(self, now: datetime) -> str:
        if self.accepted_by is not None:
            return "accepted"
        if self.withdrawn:
            return "withdrawn"
        return "expired" if now >= self.expires_at else "pending"


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    name: str
    role: MemberRole
    scopes: tuple[str, ...]
    expires_at: datetime | None
    created_by: str
    created_at: datetime
    revoked_at: datetime | None = None


@dataclass(frozen=True)
class Organisation:
    org: str = ""
    kind: OrganisationKind = "buyer"
    name: str = ""
    registered: bool = False
    members: dict[str, Member] = field(default_factory=dict)
    invitations: dict[UUID, Invitation] = field(default_factory=dict)
    keys: dict[str, ApiKey] = field(default_factory=dict)

    def is_admin(self, subject: str) -> bool:
        member = self.members.get(subject)
        return member is not None and member.org_admin

    @property
    def admins(self) -> list[str]:
        return sorted(s for s, m in self.members.items() if m.org_admin)


class RegisterOrganisation(msgspec.Struct, frozen=True, kw_only=True):
    org: str
    kind: OrganisationKind
    name: str
    first_admin: str
    first_admin_email: str | None
    first_admin_role: MemberRole | None
    by: str
    at: datetime


class GrantMembership(msgspec.Struct, frozen=True, kw_only=True):
    subject: str
    role: MemberRole
    org_admin: bool
    email: str | None
    by: str
    at: datetime


class RevokeMembership(msgspec.Struct, frozen=True, kw_only=True):
    subject: str
    by: str
    at: datetime


class Invite(msgspec.Struct, frozen=True, kw_only=True):
    invitation_id: UUID
    email: str | None
    subject: str | None
    role: MemberRole
    org_admin: bool
    token_hash: str
    expires_at: datetime
    by: str
    at: datetime


class AcceptInvitation(msgspec.Struct, frozen=True, kw_only=True):
    invitation_id: UUID
    token_hash: str
    subject: str
    at: datetime


class WithdrawInvitation(msgspec.Struct, frozen=True, kw_only=True):
    invitation_id: UUID
    by: str
    at: datetime


class CreateApiKey(msgspec.Struct, frozen=True, kw_only=True):
    key_id: str
    name: str
    scopes: list[str]
    secret_hash: str
    expires_at: datetime | None
    by: str
    at: datetime


class RevokeApiKey(msgspec.Struct, frozen=True, kw_only=True):
    key_id: str
    by: str
    at: datetime


OrganisationCommand = (
    RegisterOrganisation
    | GrantMembership
    | RevokeMembership
    | Invite
    | AcceptInvitation
    | WithdrawInvitation
    | CreateApiKey
    | RevokeApiKey
)


def _role_errors(kind: str, role: str, field_name: str = "role") -> list[FieldError]:
    allowed = ROLES_OF_KIND[kind]
    if role in allowed:
        return []
    return [FieldError(field_name, f"a member of a {kind} organisation is one of: {', '.join(allowed)}")]


def _register(command: RegisterOrganisation, state: Organisation) -> list[OrganisationEvent]:
    if state.registered:
        raise Conflict(f"organisation {command.org} already exists", problem="already-registered")
    role = command.first_admin_role or ROLES_OF_KIND[command.kind][0]
    errors = _role_errors(command.kind, role, "first_admin.role")
    if not command.name.strip():
        errors.append(FieldError("name", "must not be blank"))
    if errors:
        raise InvalidInput(errors)
    return [
        OrganisationRegistered(
            org=command.org, kind=command.kind, name=command.name.strip(), registered_by=command.by, at=command.at
        ),
        MembershipGranted(
            org=command.org,
            subject=command.first_admin,
            role=role,
            org_admin=True,
            email=command.first_admin_email,
            granted_by=command.by,
            at=command.at,
        ),
    ]


def _keeps_an_admin(state: Organisation, subject: str) -> None:
    if state.admins == [subject]:
        raise Conflict(
            f"{subject} is the organisation's last admin: make another member an admin first", problem="last-admin"
        )


def _grant(command: GrantMembership, state: Organisation) -> list[OrganisationEvent]:
    if errors := _role_errors(state.kind, command.role):
        raise InvalidInput(errors)
    if not command.org_admin:
        _keeps_an_admin(state, command.subject)
    known = state.members.get(command.subject)
    email = command.email if command.email is not None else (known.email if known else None)
    if known is not None and (known.role, known.org_admin, known.email) == (command.role, command.org_admin, email):
        return []
    return [
        MembershipGranted(
            org=state.org,
            subject=command.subject,
            role=command.role,
            org_admin=command.org_admin,
            email=email,
            granted_by=command.by,
            at=command.at,
        )
    ]


def _revoke(command: RevokeMembership, state: Organisation) -> list[OrganisationEvent]:
    if command.subject not in state.members:
        raise NotFound(f"{command.subject} is not a member of {state.org}")
    _keeps_an_admin(state, command.subject)
    return [MembershipRevoked(org=state.org, subject=command.subject, revoked_by=command.by, at=command.at)]


def _invite(command: Invite, state: Organisation) -> list[OrganisationEvent]:
    errors = _role_errors(state.kind, command.role)
    if (command.email is None) == (command.subject is None):
        errors.append(FieldError("email", "name either an e-mail address or a subject to invite, not both"))
    if command.expires_at <= command.at:
        errors.append(FieldError("expires_in", "must be in the future"))
    if command.subject is not None and command.subject in state.members:
        raise Conflict(f"{command.subject} is already a member of {state.org}", problem="already-member")
    if errors:
        raise InvalidInput(errors)
    return [
        InvitationSent(
            invitation_id=command.invitation_id,
            org=state.org,
            email=command.email,
            subject=command.subject,
            role=command.role,
            org_admin=command.org_admin,
            token_hash=command.token_hash,
            expires_at=command.expires_at,
            invited_by=command.by,
            at=command.at,
        )
    ]


def _invitation(state: Organisation, invitation_id: UUID) -> Invitation:
    invitation = state.invitations.get(invitation_id)
    if invitation is None:
        raise NotFound(f"no invitation {invitation_id} to {state.org}")
    return invitation


def _accept(command: AcceptInvitation, state: Organisation) -> list[OrganisationEvent]:
    invitation = _invitation(state, command.invitation_id)
    if not hmac.compare_digest(invitation.token_hash, command.token_hash):
        raise Forbidden("this is not the invitation's token")
    status = invitation.status(command.at)
    if status != "pending":
        raise Conflict(f"the invitation is {status}", problem=f"invitation-{status}")
    if invitation.subject is not None and invitation.subject != command.subject:
        raise Forbidden("this invitation is for someone else")
    known = state.members.get(command.subject)
    org_admin = invitation.org_admin or (known is not None and known.org_admin)
    return [
        InvitationAccepted(
            invitation_id=invitation.invitation_id, org=state.org, subject=command.subject, at=command.at
        ),
        MembershipGranted(
            org=state.org,
            subject=command.subject,
            role=invitation.role,
            org_admin=org_admin,
            email=invitation.email or (known.email if known else None),
            granted_by=invitation.invited_by,
            at=command.at,
        ),
    ]


def _withdraw(command: WithdrawInvitation, state: Organisation) -> list[OrganisationEvent]:
    invitation = _invitation(state, command.invitation_id)
    status = invitation.status(command.at)
    if status == "withdrawn":
        return []
    if status == "accepted":
        raise Conflict("the invitation was already accepted: remove the member instead", problem="invitation-accepted")
    return [
        InvitationWithdrawn(
            invitation_id=invitation.invitation_id, org=state.org, withdrawn_by=command.by, at=command.at
        )
    ]


def _create_key(command: CreateApiKey, state: Organisation) -> list[OrganisationEvent]:
    role = KEY_ROLE[state.kind]
    usable = scopes_for(role)
    errors = [
        FieldError(f"scopes[{i}]", f"a key of a {state.kind} organisation may hold only: {', '.join(usable)}")
        for i, scope in enumerate(command.scopes)
        if scope not in usable
    ]
    if not command.scopes:
        errors.append(FieldError("scopes", "name at least one scope"))
    if command.expires_at is not None and command.expires_at <= command.at:
        errors.append(FieldError("expires_at", "must be in the future"))
    if not command.name.strip():
        errors.append(FieldError("name", "must not be blank"))
    if errors:
        raise InvalidInput(errors)
    return [
        ApiKeyCreated(
            key_id=command.key_id,
            org=state.org,
            name=command.name.strip(),
            role=role,
            scopes=sorted(set(command.scopes)),
            secret_hash=command.secret_hash,
            expires_at=command.expires_at,
            created_by=command.by,
            at=command.at,
        )
    ]


def _revoke_key(command: RevokeApiKey, state: Organisation) -> list[OrganisationEvent]:
    key = state.keys.get(command.key_id)
    if key is None:
        raise NotFound(f"no API key {command.key_id} in {state.org}")
    if key.revoked_at is not None:
        return []
    return [ApiKeyRevoked(key_id=key.key_id, org=state.org, revoked_by=command.by, at=command.at)]


def decide(command: OrganisationCommand, state: Organisation) -> list[OrganisationEvent]:
    if not isinstance(command, RegisterOrganisation) and not state.registered:
        raise NotFound("no such organisation")
    match command:
        case RegisterOrganisation():
            return _register(command, state)
        case GrantMembership():
            return _grant(command, state)
        case RevokeMembership():
            return _revoke(command, state)
        case Invite():
            return _invite(command, state)
        case AcceptInvitation():
            return _accept(command, state)
        case WithdrawInvitation():
            return _withdraw(command, state)
        case CreateApiKey():
            return _create_key(command, state)
        case RevokeApiKey():
            return _revoke_key(command, state)
        case _:
            assert_never(command)


def evolve(state: Organisation, event: OrganisationEvent) -> Organisation:
    match event:
        case OrganisationRegistered():
            return replace(state, org=event.org, kind=event.kind, name=event.name, registered=True)
        case MembershipGranted():
            known = state.members.get(event.subject)
            since = known.since if known else event.at
            member = Member(event.subject, event.role, event.org_admin, event.email, since)
            return replace(state, members={**state.members, event.subject: member})
        case MembershipRevoked():
            return replace(state, members={s: m for s, m in state.members.items() if s != event.subject})
        case InvitationSent():
            invitation = Invitation(
                invitation_id=event.invitation_id,
                email=event.email,
                subject=event.subject,
                role=event.role,
                org_admin=event.org_admin,
                token_hash=event.token_hash,
                expires_at=event.expires_at,
                invited_by=event.invited_by,
                sent_at=event.at,
            )
            return replace(state, invitations={**state.invitations, event.invitation_id: invitation})
        case InvitationAccepted():
            accepted = replace(state.invitations[event.invitation_id], accepted_by=event.subject)
            return replace(state, invitations={**state.invitations, event.invitation_id: accepted})
        case InvitationWithdrawn():
            withdrawn = replace(state.invitations[event.invitation_id], withdrawn=True)
            return replace(state, invitations={**state.invitations, event.invitation_id: withdrawn})
        case ApiKeyCreated():
            key = ApiKey(
                key_id=event.key_id,
                name=event.name,
                role=event.role,
                scopes=tuple(event.scopes),
                expires_at=event.expires_at,
                created_by=event.created_by,
                created_at=event.at,
            )
            return replace(state, keys={**state.keys, event.key_id: key})
        case ApiKeyRevoked():
            revoked = replace(state.keys[event.key_id], revoked_at=event.at)
            return replace(state, keys={**state.keys, event.key_id: revoked})
        case _:
            assert_never(event)


def organisation_stream(org: str) -> str:
    return f"organisation-{org}"


ORGANISATION: Decider[OrganisationCommand, Organisation, OrganisationEvent] = Decider(
    stream_type="organisation", initial_state=Organisation(), decide=decide, evolve=evolve
)
