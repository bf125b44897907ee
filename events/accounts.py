"""Accounts' events: organisations, their members, invitations and API keys.

One stream per organisation, ``organisation-<org>``. Every service keeps a mirror of who belongs where and of
the API keys (``shared/identities.py``), fed by these events alone, so they carry full state:

- ``OrganisationRegistered``: the organisation's id (the ``org`` claim of its people's tokens), kind and name.
- ``MembershipGranted``: a person (``subject``, the ``sub`` of their tokens) is now a member with this role,
  and an organisation admin if ``org_admin``; a later one for the same subject replaces it whole.
- ``MembershipRevoked``: the subject is no longer a member.
- ``InvitationSent`` / ``InvitationAccepted`` / ``InvitationWithdrawn``: an invitation by e-mail or by
  subject; only the SHA-256 of its token is kept. Accepting also grants the membership (its own event).
- ``ApiKeyCreated``: everything a service needs to check a key: id, organisation, the role it acts with,
  scopes, expiry and ``secret_hash`` (HMAC-SHA256 of the secret under the server's pepper, hex); the secret
  itself is shown once to its creator and never stored.
- ``ApiKeyRevoked``: the key is refused from now on.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from events.base import Event, EventCodec

OrganisationKind = Literal["buyer", "aggregator", "msme", "inspection_body"]
MemberRole = Literal["buyer", "aggregator", "msme", "inspector"]


class OrganisationRegistered(Event, frozen=True, kw_only=True, tag="accounts.OrganisationRegistered.v1"):
    """An organisation joined Gotong; ``org`` is its id, the ``org`` claim its people's tokens carry."""

    org: str
    kind: OrganisationKind
    name: str
    registered_by: str
    at: datetime


class MembershipGranted(Event, frozen=True, kw_only=True, tag="accounts.MembershipGranted.v1"):
    """The subject's whole membership of the organisation: its role and whether it administers the organisation."""

    org: str
    subject: str
    role: MemberRole
    org_admin: bool
    email: str | None = None
    granted_by: str
    at: datetime


class MembershipRevoked(Event, frozen=True, kw_only=True, tag="accounts.MembershipRevoked.v1"):
    """The subject left the organisation (or was removed)."""

    org: str
    subject: str
    revoked_by: str
    at: datetime


class InvitationSent(Event, frozen=True, kw_only=True, tag="accounts.InvitationSent.v1"):
    """Someone (an e-mail address, or a known subject) is invited with this role until ``expires_at``."""

    invitation_id: UUID
    org: str
    email: str | None = None
    subject: str | None = None
    role: MemberRole
    org_admin: bool
    token_hash: str
    expires_at: datetime
    invited_by: str
    at: datetime


class InvitationAccepted(Event, frozen=True, kw_only=True, tag="accounts.InvitationAccepted.v1"):
    """The invitation was taken up by ``subject`` (a ``MembershipGranted`` follows in the same stream)."""

    invitation_id: UUID
    org: str
    subject: str
    at: datetime


class InvitationWithdrawn(Event, frozen=True, kw_only=True, tag="accounts.InvitationWithdrawn.v1"):
    """An organisation admin took the invitation back before it was accepted."""

    invitation_id: UUID
    org: str
    withdrawn_by: str
    at: datetime


class ApiKeyCreated(Event, frozen=True, kw_only=True, tag="accounts.ApiKeyCreated.v1"):
    """A key for the organisation's own systems, acting with ``role`` and only within ``scopes``."""

    key_id: str
    org: str
    name: str
    role: MemberRole
    scopes: list[str]
    secret_hash: str
    expires_at: datetime | None = None
    created_by: str
    at: datetime


class ApiKeyRevoked(Event, frozen=True, kw_only=True, tag="accounts.ApiKeyRevoked.v1"):
    """The key is refused from now on, by every service."""

    key_id: str
    org: str
    revoked_by: str
    at: datetime


AccountsEvent = (
    OrganisationRegistered
    | MembershipGranted
    | MembershipRevoked
    | InvitationSent
    | InvitationAccepted
    | InvitationWithdrawn
    | ApiKeyCreated
    | ApiKeyRevoked
)
CODEC = EventCodec("accounts", AccountsEvent)
