"""Routes of organisations and their members: operators register organisations, organisation admins manage
their members, members read their organisation."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post, put
from litestar.params import JSONBody, PathParameter, QueryParameter

from events.accounts import OrganisationKind
from services.accounts import commands
from services.accounts.api.bodies import MembershipChange, MembershipIn, NewOrganisation
from services.accounts.read import queries
from services.accounts.read.views import OrganisationSummary, OrganisationView, organisation_view
from shared.api import Caller, Context, Cursor, Limit, command_metadata, if_match
from shared.auth import Role
from shared.guards import allow
from shared.pages import Page
from shared.problems import problem_responses

OrgPath = Annotated[str, PathParameter(min_length=1, max_length=100)]
SubjectPath = Annotated[str, PathParameter(min_length=1, max_length=255)]
PEOPLE = [allow(Role.BUYER, Role.AGGREGATOR, Role.MSME, Role.INSPECTOR)]
"""Every role, but no API key: organisations are managed by people."""
INVITEES = [allow(Role.BUYER, Role.AGGREGATOR, Role.MSME, Role.INSPECTOR, Role.NEWCOMER)]
"""People, including those signed in who belong to no organisation yet (``Role.NEWCOMER``): an invitation is
how they join one."""


@post("/organisations", guards=[allow(Role.ADMIN)], responses=problem_responses(409))
async def register_organisation(
    data: JSONBody[NewOrganisation], request: Request[Any, Any, Any], principal: Caller, ctx: Context
) -> OrganisationView:
    """Register an organisation with its first admin (Gotong's operators only)."""
    saved = await commands.register_organisation(
        ctx,
        principal,
        command_metadata(request, principal),
        org=data.org,
        kind=data.kind,
        name=data.name,
        first_admin=data.first_admin.subject,
        first_admin_email=data.first_admin.email,
        first_admin_role=data.first_admin.role,
    )
    return organisation_view(saved.value, saved.version, saved.position)


@get("/organisations", guards=PEOPLE)
async def list_organisations(
    principal: Caller,
    ctx: Context,
    limit: Limit = 50,
    cursor: Cursor = None,
    kind: Annotated[OrganisationKind | None, QueryParameter(name="kind")] = None,
) -> Page[OrganisationSummary]:
    """Organisations by id: all of them for operators, the caller's own for everyone else."""
    return await queries.organisations_page(ctx, principal, limit, cursor, kind)


@get("/organisations/{org:str}", guards=PEOPLE)
async def get_organisation(org: OrgPath, principal: Caller, ctx: Context) -> OrganisationView:
    """An organisation and its members, to its own members and operators."""
    state, version = await commands.organisation(ctx, principal, org)
    return organisation_view(state, version)


@post("/organisations/{org:str}/members", guards=PEOPLE, responses=problem_responses(409, 412))
async def add_member(
    org: OrgPath, data: JSONBody[MembershipIn], request: Request[Any, Any, Any], principal: Caller, ctx: Context
) -> OrganisationView:
    """Add a member directly (an organisation admin or an operator), or replace their membership."""
    saved = await commands.grant_membership(
        ctx,
        principal,
        command_metadata(request, principal),
        org=org,
        expected=if_match(request),
        subject=data.subject,
        role=data.role,
        org_admin=data.org_admin,
        email=data.email,
    )
    return organisation_view(saved.value, saved.version, saved.position)


@put("/organisations/{org:str}/members/{subject:str}", guards=PEOPLE, responses=problem_responses(409, 412))
async def change_member(
    org: OrgPath,
    subject: SubjectPath,
    data: JSONBody[MembershipChange],
    request: Request[Any, Any, Any],
    principal: Caller,
    ctx: Context,
) -> OrganisationView:
    """Change a member's role or admin flag; the last admin cannot be demoted (409)."""
    saved = await commands.grant_membership(
        ctx,
        principal,
        command_metadata(request, principal),
        org=org,
        expected=if_match(request),
        subject=subject,
        role=data.role,
        org_admin=data.org_admin,
        email=data.email,
    )
    return organisation_view(saved.value, saved.version, saved.position)


@post(
    "/organisations/{org:str}/members/{subject:str}/remove",
    guards=PEOPLE,
    status_code=200,
    responses=problem_responses(409, 412),
)
async def remove_member(
    org: OrgPath, subject: SubjectPath, request: Request[Any, Any, Any], principal: Caller, ctx: Context
) -> OrganisationView:
    """Remove a member (an organisation admin), or leave (the member); the last admin stays (409)."""
    saved = await commands.revoke_membership(
        ctx, principal, command_metadata(request, principal), org=org, expected=if_match(request), subject=subject
    )
    return organisation_view(saved.value, saved.version, saved.position)


ROUTES = [register_organisation, list_organisations, get_organisation, add_member, change_member, remove_member]
