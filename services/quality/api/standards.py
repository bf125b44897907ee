"""Routes for quality standards and their versions; inspectors and admins write, everyone reads."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Request, Response, get, post, put
from litestar.params import FromPath, JSONBody, PathParameter, QueryParameter

from services.quality.api.bodies import NewStandard, NewVersion, VersionInput
from services.quality.read import queries
from services.quality.read.views import StandardSummary, StandardView, standard_view
from services.quality.use_cases import standards as use_cases
from shared.api import (
    Caller,
    Context,
    Cursor,
    Limit,
    WaitFor,
    command_metadata,
    idempotent,
    if_match,
    stored_answer,
    wait_for_position,
)
from shared.auth import Role
from shared.bounds import MAX_VERSION
from shared.eventstore import Connection
from shared.guards import Scope, allow
from shared.pages import Page
from shared.problems import problem_responses

VersionNumber = Annotated[int, PathParameter(ge=1, le=MAX_VERSION)]


@post("/standards", guards=[allow(Role.INSPECTOR, scope=Scope.QUALITY_WRITE)])
async def create_standard(
    data: JSONBody[NewStandard], request: Request[Any, Any, Any], principal: Caller, ctx: Context
) -> Response[StandardView]:
    """Create a standard with its first version, published at once when ``publish`` is true."""

    async def work(connection: Connection | None) -> tuple[int, StandardView]:
        saved = await use_cases.create_standard(
            ctx,
            principal,
            command_metadata(request, principal),
            connection,
            name=data.name,
            description=data.description,
            spec=data.spec(),
            publish=data.publish,
        )
        return 201, standard_view(saved.value, saved.version, saved.position)

    return stored_answer(await idempotent(ctx, request, principal, work), StandardView)


@post(
    "/standards/{standard_id:uuid}/versions",
    guards=[allow(Role.INSPECTOR, scope=Scope.QUALITY_WRITE)],
    responses=problem_responses(412),
)
async def add_version(
    standard_id: FromPath[UUID],
    data: JSONBody[NewVersion],
    request: Request[Any, Any, Any],
    principal: Caller,
    ctx: Context,
) -> Response[StandardView]:
    """Add the next version, a draft unless ``publish`` is true."""
    expected = if_match(request)

    async def work(connection: Connection | None) -> tuple[int, StandardView]:
        saved = await use_cases.add_version(
            ctx,
            principal,
            command_metadata(request, principal),
            connection,
            standard_id=standard_id,
            expected=expected,
            spec=data.spec(),
            publish=data.publish,
        )
        return 201, standard_view(saved.value, saved.version, saved.position)

    return stored_answer(await idempotent(ctx, request, principal, work), StandardView)


@put(
    "/standards/{standard_id:uuid}/versions/{number:int}",
    guards=[allow(Role.INSPECTOR, scope=Scope.QUALITY_WRITE)],
    responses=problem_responses(409, 412),
)
async def revise_version(
    standard_id: FromPath[UUID],
    number: VersionNumber,
    data: JSONBody[VersionInput],
    request: Request[Any, Any, Any],
    principal: Caller,
    ctx: Context,
) -> StandardView:
    """Replace a draft version as a whole; a published version is immutable (409)."""
    saved = await use_cases.revise_version(
        ctx,
        principal,
        command_metadata(request, principal),
        standard_id=standard_id,
        expected=if_match(request),
        number=number,
        spec=data.spec(),
    )
    return standard_view(saved.value, saved.version, saved.position)


@post(
    "/standards/{standard_id:uuid}/versions/{number:int}/publish",
    status_code=200,
    guards=[allow(Role.INSPECTOR, scope=Scope.QUALITY_WRITE)],
    responses=problem_responses(409, 412),
)
async def publish_version(
    standard_id: FromPath[UUID], number: VersionNumber, request: Request[Any, Any, Any], principal: Caller, ctx: Context
) -> StandardView:
    """Publish a draft: from now on it never changes and orders and inspections may use it."""
    saved = await use_cases.publish_version(
        ctx,
        principal,
        command_metadata(request, principal),
        standard_id=standard_id,
        expected=if_match(request),
        number=number,
    )
    return standard_view(saved.value, saved.version, saved.position)


@get("/standards", guards=[allow(scope=Scope.QUALITY_READ)])
async def list_standards(
    principal: Caller,
    ctx: Context,
    limit: Limit = 50,
    cursor: Cursor = None,
    q: Annotated[str | None, QueryParameter(name="q", min_length=1, max_length=200)] = None,
    owner_org: Annotated[str | None, QueryParameter(name="owner_org", min_length=1, max_length=100)] = None,
    wait_for: WaitFor = None,
) -> Page[StandardSummary]:
    """Standards, oldest first; ``q`` matches the name, ``owner_org`` the organisation that maintains it."""
    await wait_for_position(ctx, wait_for)
    return await queries.standards_page(ctx, limit, cursor, name_part=q, owner_org=owner_org)


@get("/standards/{standard_id:uuid}", guards=[allow(scope=Scope.QUALITY_READ)])
async def get_standard(
    standard_id: FromPath[UUID], principal: Caller, ctx: Context, wait_for: WaitFor = None
) -> StandardView:
    """A standard with all its versions, drafts included."""
    await wait_for_position(ctx, wait_for)
    return await queries.standard(ctx, standard_id)


ROUTES = [create_standard, add_version, revise_version, publish_version, list_standards, get_standard]
