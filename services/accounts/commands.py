"""Accounts' use cases, one function each: who may manage an organisation, then load, decide, append.

Gotong's operators (role ``admin``) manage every organisation; an organisation's own admins (members with
``org_admin``) manage theirs, signed in as themselves: an API key never manages an organisation. Every
command waits for accounts' own projections (the identity mirror among them) before it answers, so a key
revoked here is refused here by the time the response is sent.

Each command's metadata names the organisation it manages (``org``), so its audit trail shows what its admins,
operators and newcomers joining it did. No command here runs under ``Idempotency-Key``: the answers of
invitations and keys hold a secret shown once, which must not be stored to be replayed; organisations are named
by their client, so a repeat is a 409.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, TypeVar
from uuid import UUID

import msgspec

from events.accounts import MemberRole, OrganisationKind
from services.accounts.domain.organisation import (
    ORGANISATION,
    AcceptInvitation,
    CreateApiKey,
    GrantMembership,
    Invite,
    Organisation,
    OrganisationCommand,
    RegisterOrganisation,
    RevokeApiKey,
    RevokeMembership,
    WithdrawInvitation,
    organisation_stream,
)
from shared.api import check_version, wait_for_position
from shared.auth import API_KEY_PREFIX, Principal, hash_secret, new_api_key
from shared.decider import UnitOfWork, fold_stream, run_command
from shared.eventstore import Metadata
from shared.kernel.errors import Conflict, Forbidden, NotFound
from shared.kernel.ids import new_id
from shared.service import ServiceContext

T = TypeVar("T")
INVITATION_PREFIX = "gi_"


@dataclass(frozen=True)
class Saved(Generic[T]):
    value: T
    version: int
    position: int


@dataclass(frozen=True)
class Issued:
    """An organisation after a command that made a secret, which is shown this once."""

    organisation: Saved[Organisation]
    secret: str
    made_id: str


def may_manage(principal: Principal, state: Organisation) -> bool:
    return principal.is_admin or (
        principal.key_id is None and principal.org == state.org and state.is_admin(principal.sub)
    )


def may_read(principal: Principal, org: str) -> bool:
    return principal.is_admin or principal.org == org


def may_audit(principal: Principal, state: Organisation) -> bool:
    """Operators, the organisation's admins, and its keys (the route admits only those holding ``audit:read``)."""
    own_key = principal.key_id is not None and principal.org == state.org
    return may_manage(principal, state) or own_key


async def organisation(ctx: ServiceContext, principal: Principal, org: str) -> tuple[Organisation, int]:
    """The organisation as its stream stands; another organisation's is 404 to all but operators."""
    if not may_read(principal, org):
        raise NotFound(f"no organisation {org}")
    state, version = await fold_stream(ctx.store, ORGANISATION, organisation_stream(org))
    if not state.registered:
        raise NotFound(f"no organisation {org}")
    return state, version


async def _run(
    ctx: ServiceContext,
    principal: Principal,
    metadata: Metadata,
    org: str,
    command: OrganisationCommand,
    *,
    expected: int | None = None,
    manage: bool = True,
) -> Saved[Organisation]:
    stream = organisation_stream(org)
    # On accounts' commands the organisation is the one managed (or joined), whoever acts: an operator's change
    # is on that organisation's audit trail, as is a newcomer's joining it.
    metadata = msgspec.structs.replace(metadata, org=org)

    async def work(unit: UnitOfWork) -> Organisation:
        state = await unit.load(ORGANISATION, stream)
        if not isinstance(command, RegisterOrganisation):
            if not state.registered or (manage and not may_read(principal, org)):
                raise NotFound(f"no organisation {org}")
            if manage and not may_manage(principal, state):
                raise Forbidden(f"only an admin of {org} (signed in as a person) may manage it")
        check_version(expected, await unit.version(stream))
        new_state, _ = await unit.execute(ORGANISATION, stream, command)
        return new_state

    outcome = await run_command(ctx.store, work, metadata=metadata)
    version = outcome.versions.get(stream)
    if version is None:  # nothing changed
        version = (await fold_stream(ctx.store, ORGANISATION, stream))[1]
    else:
        await wait_for_position(ctx, outcome.position)
    return Saved(outcome.value, version, outcome.position)


async def register_organisation(
    ctx: ServiceContext,
    principal: Principal,
    metadata: Metadata,
    *,
    org: str,
    kind: OrganisationKind,
    name: str,
    first_admin: str,
    first_admin_email: str | None,
    first_admin_role: MemberRole | None,
) -> Saved[Organisation]:
    command = RegisterOrganisation(
        org=org,
        kind=kind,
        name=name,
        first_admin=first_admin,
        first_admin_email=first_admin_email,
        first_admin_role=first_admin_role,
        by=principal.actor,
        at=ctx.clock.now(),
    )
    return await _run(ctx, principal, metadata, org, command)


async def grant_membership(
    ctx: ServiceContext,
    principal: Principal,
    metadata: Metadata,
    *,
    org: str,
    expected: int | None,
    subject: str,
    role: MemberRole,
    org_admin: bool,
    email: str | None,
) -> Saved[Organisation]:
    command = GrantMembership(
        subject=subject, role=role, org_admin=org_admin, email=email, by=principal.actor, at=ctx.clock.now()
    )
    return await _run(ctx, principal, metadata, org, command, expected=expected)


async def revoke_membership(
    ctx: ServiceContext, principal: Principal, metadata: Metadata, *, org: str, expected: int | None, subject: str
) -> Saved[Organisation]:
    """Remove a member; a member may also leave of their own accord."""
    command = RevokeMembership(subject=subject, by=principal.actor, at=ctx.clock.now())
    leaving = principal.key_id is None and principal.sub == subject and principal.org == org
    return await _run(ctx, principal, metadata, org, command, expected=expected, manage=not leaving)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def invite(
    ctx: ServiceContext,
    principal: Principal,
    metadata: Metadata,
    *,
    org: str,
    email: str | None,
    subject: str | None,
    role: MemberRole,
    org_admin: bool,
    expires_in: timedelta,
) -> Issued:
    invitation_id = new_id()
    token = f"{INVITATION_PREFIX}{secrets.token_urlsafe(32)}"
    now = ctx.clock.now()
    command = Invite(
        invitation_id=invitation_id,
        email=email,
        subject=subject,
        role=role,
        org_admin=org_admin,
        token_hash=token_hash(token),
        expires_at=now + expires_in,
        by=principal.actor,
        at=now,
    )
    saved = await _run(ctx, principal, metadata, org, command)
    return Issued(saved, token, str(invitation_id))


async def accept_invitation(
    ctx: ServiceContext, principal: Principal, metadata: Metadata, *, org: str, invitation_id: UUID, token: str
) -> Saved[Organisation]:
    """The caller (a person, whoever their token says they are now) takes up the invitation."""
    if principal.key_id is not None:
        raise Forbidden("an invitation is accepted by a person, not an API key")
    command = AcceptInvitation(
        invitation_id=invitation_id, token_hash=token_hash(token), subject=principal.sub, at=ctx.clock.now()
    )
    return await _run(ctx, principal, metadata, org, command, manage=False)


async def withdraw_invitation(
    ctx: ServiceContext, principal: Principal, metadata: Metadata, *, org: str, invitation_id: UUID
) -> Saved[Organisation]:
    command = WithdrawInvitation(invitation_id=invitation_id, by=principal.actor, at=ctx.clock.now())
    return await _run(ctx, principal, metadata, org, command)


async def create_api_key(
    ctx: ServiceContext,
    principal: Principal,
    metadata: Metadata,
    *,
    org: str,
    name: str,
    scopes: list[str],
    expires_at: datetime | None,
) -> Issued:
    pepper = ctx.tokens.pepper
    if not pepper:
        raise Conflict("API keys are not enabled here: set GOTONG_API_KEY_PEPPER", problem="api-keys-disabled")
    key_id, secret = new_api_key()
    command = CreateApiKey(
        key_id=key_id,
        name=name,
        scopes=scopes,
        secret_hash=hash_secret(pepper, secret),
        expires_at=expires_at,
        by=principal.actor,
        at=ctx.clock.now(),
    )
    saved = await _run(ctx, principal, metadata, org, command)
    return Issued(saved, f"{API_KEY_PREFIX}{key_id}_{secret}", key_id)


async def revoke_api_key(
    ctx: ServiceContext, principal: Principal, metadata: Metadata, *, org: str, key_id: str
) -> Saved[Organisation]:
    command = RevokeApiKey(key_id=key_id, by=principal.actor, at=ctx.clock.now())
    return await _run(ctx, principal, metadata, org, command)
