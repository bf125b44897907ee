"""Routes of invitations and API keys: organisation admins send invitations and make keys; the secret of
each is in the answer to its creation and nowhere else."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any
from uuid import UUID

from litestar import Request, get, post
from litestar.params import FromPath, JSONBody, PathParameter

from services.accounts import commands
from services.accounts.api.bodies import Acceptance, ApiKeyIn, InvitationIn
from services.accounts.api.organisations import INVITEES, PEOPLE, OrgPath
from services.accounts.domain.organisation import Organisation
from services.accounts.read import queries
from services.accounts.read.views import (
    ApiKeyView,
    InvitationView,
    NewApiKey,
    NewInvitation,
    OrganisationView,
    api_key_view,
    invitation_view,
    organisation_view,
)
from shared.api import Caller, Context, Cursor, Limit, command_metadata
from shared.auth import Principal
from shared.kernel.errors import Forbidden, InvalidInput
from shared.pages import Page
from shared.problems import problem_responses
from shared.service import ServiceContext

KeyPath = Annotated[str, PathParameter(min_length=1, max_length=32, pattern=r"^[0-9a-f]+$")]


@post("/organisations/{org:str}/invitations", guards=PEOPLE, responses=problem_responses(409))
async def invite(
    org: OrgPath, data: JSONBody[InvitationIn], request: Request[Any, Any, Any], principal: Caller, ctx: Context
) -> NewInvitation:
    """Invite someone; the answer's ``token`` goes to the invitee (it is shown once and stored only hashed)."""
    issued = await commands.invite(
        ctx,
        principal,
        command_metadata(request, principal),
        org=org,
        email=data.email,
        subject=data.subject,
        role=data.role,
        org_admin=data.org_admin,
        expires_in=timedelta(hours=data.expires_in_hours),
    )
    saved = issued.organisation
    invitation = saved.value.invitations[UUID(issued.made_id)]
    view = invitation_view(org, invitation, ctx.clock.now())
    return NewInvitation(token=issued.secret, invitation=view, version=saved.version, position=saved.position)


@get("/organisations/{org:str}/invitations", guards=PEOPLE)
async def list_invitations(
    org: OrgPath, principal: Caller, ctx: Context, limit: Limit = 50, cursor: Cursor = None
) -> Page[InvitationView]:
    """The organisation's invitations, oldest first, with their status (pending, accepted, withdrawn, expired)."""
    state = await _managed(ctx, principal, org)
    now = ctx.clock.now()
    items = [(str(i), invitation_view(org, inv, now)) for i, inv in state.invitations.items()]
    return queries.page_of(items, limit, cursor)


@post(
    "/organisations/{org:str}/invitations/{invitation_id:uuid}/accept",
    guards=INVITEES,
    status_code=200,
    responses=problem_responses(409),
)
async def accept_invitation(
    org: OrgPath,
    invitation_id: FromPath[UUID],
    data: JSONBody[Acceptance],
    request: Request[Any, Any, Any],
    principal: Caller,
    ctx: Context,
) -> OrganisationView:
    """Take up an invitation with its token: the caller becomes a member with the role it names. Someone signed
    in with OpenID Connect who belongs to no organisation yet may call this, and only this."""
    saved = await commands.accept_invitation(
        ctx, principal, command_metadata(request, principal), org=org, invitation_id=invitation_id, token=data.token
    )
    return organisation_view(saved.value, saved.version, saved.position)


@post(
    "/organisations/{org:str}/invitations/{invitation_id:uuid}/withdraw",
    guards=PEOPLE,
    status_code=200,
    responses=problem_responses(409),
)
async def withdraw_invitation(
    org: OrgPath, invitation_id: FromPath[UUID], request: Request[Any, Any, Any], principal: Caller, ctx: Context
) -> InvitationView:
    """Take an invitation back before it is accepted."""
    saved = await commands.withdraw_invitation(
        ctx, principal, command_metadata(request, principal), org=org, invitation_id=invitation_id
    )
    return invitation_view(org, saved.value.invitations[invitation_id], ctx.clock.now())


@post("/organisations/{org:str}/api-keys", guards=PEOPLE, responses=problem_responses(409))
async def create_api_key(
    org: OrgPath, data: JSONBody[ApiKeyIn], request: Request[Any, Any, Any], principal: Caller, ctx: Context
) -> NewApiKey:
    """Make a key for the organisation's systems; ``key`` in the answer is its only showing."""
    if data.expires_at is not None and data.expires_at.tzinfo is None:
        raise InvalidInput.of("expires_at", "must name its time zone (RFC 3339, e.g. 2027-01-31T00:00:00Z)")
    issued = await commands.create_api_key(
        ctx,
        principal,
        command_metadata(request, principal),
        org=org,
        name=data.name,
        scopes=[s.value for s in data.scopes],
        expires_at=data.expires_at,
    )
    saved = issued.organisation
    view = api_key_view(org, saved.value.keys[issued.made_id], ctx.clock.now(), None)
    return NewApiKey(key=issued.secret, api_key=view, version=saved.version, position=saved.position)


@get("/organisations/{org:str}/api-keys", guards=PEOPLE)
async def list_api_keys(
    org: OrgPath, principal: Caller, ctx: Context, limit: Limit = 50, cursor: Cursor = None
) -> Page[ApiKeyView]:
    """The organisation's keys (never their secrets), with status and their last use in any service."""
    state = await _managed(ctx, principal, org)
    page = queries.page_of([(k, k) for k in state.keys], limit, cursor)
    used = await queries.last_uses(ctx, page.items)  # of this page's keys only
    now = ctx.clock.now()
    views = [api_key_view(org, state.keys[k], now, used.get(k)) for k in page.items]
    return Page(items=views, next_cursor=page.next_cursor)


@post("/organisations/{org:str}/api-keys/{key_id:str}/revoke", guards=PEOPLE, status_code=200)
async def revoke_api_key(
    org: OrgPath, key_id: KeyPath, request: Request[Any, Any, Any], principal: Caller, ctx: Context
) -> ApiKeyView:
    """Revoke a key: refused by accounts from this answer on, and by every other service once the event
    reaches it (well under a second)."""
    saved = await commands.revoke_api_key(ctx, principal, command_metadata(request, principal), org=org, key_id=key_id)
    used = await queries.last_uses(ctx, [key_id])
    return api_key_view(org, saved.value.keys[key_id], ctx.clock.now(), used.get(key_id))


async def _managed(ctx: ServiceContext, principal: Principal, org: str) -> Organisation:
    state, _ = await commands.organisation(ctx, principal, org)
    if not commands.may_manage(principal, state):
        raise Forbidden(f"only an admin of {org} may see its invitations and keys")
    return state


ROUTES = [
    invite,
    list_invitations,
    accept_invitation,
    withdraw_invitation,
    create_api_key,
    list_api_keys,
    revoke_api_key,
]
