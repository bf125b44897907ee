"""Routes for quality standards and their versions; inspectors and admins write, everyone reads."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import sqlalchemy as sa
from litestar import Request, Response, get, post, put
from litestar.params import FromPath, JSONBody, PathParameter, QueryParameter

from events.quality import StandardVersionSpec
from services.quality.api.bodies import NewStandard, NewVersion, VersionInput
from services.quality.domain.standard import (
    STANDARD,
    AddVersion,
    CreateStandard,
    PublishVersion,
    ReviseVersion,
    Standard,
    StandardCommand,
    standard_stream,
)
from services.quality.read.queries import escape_like
from services.quality.read.tables import standard_versions, standards
from services.quality.read.views import (
    StandardSummary,
    StandardView,
    decode_json,
    standard_view,
    version_view,
)
from shared.api import (
    Caller,
    Context,
    Cursor,
    Limit,
    WaitFor,
    check_version,
    command_metadata,
    idempotent,
    if_match,
    wait_for_position,
)
from shared.auth import Principal, Role
from shared.bounds import MAX_VERSION
from shared.decider import UnitOfWork, run_command
from shared.errors import Forbidden, NotFound
from shared.eventstore import Connection
from shared.ids import new_id
from shared.pages import BY_ID, Page
from shared.problems import problem_responses
from shared.service import ServiceContext
from shared.sql import fetch, fetchrow

VersionNumber = Annotated[int, PathParameter(ge=1, le=MAX_VERSION)]


@post("/standards", responses=problem_responses(400, 401, 403, 415, 422))
async def create_standard(
    data: JSONBody[NewStandard], request: Request[Any, Any, Any], principal: Caller, ctx: Context
) -> Response[Any]:
    """Create a standard with its first version, published at once when ``publish`` is true."""
    principal.require(Role.INSPECTOR)
    standard_id = new_id()
    command = CreateStandard(
        standard_id=standard_id,
        name=data.name,
        description=data.description,
        owner_org=principal.org,
        spec=data.spec(),
        publish=data.publish,
        by=principal.sub,
        at=ctx.clock.now(),
    )

    async def work(connection: Connection | None) -> tuple[int, Any]:
        outcome = await run_command(
            ctx.store,
            lambda unit: unit.execute(STANDARD, standard_stream(standard_id), command),
            metadata=command_metadata(request, principal),
            connection=connection,
        )
        state = outcome.value[0]
        return 201, standard_view(state, outcome.versions[standard_stream(standard_id)], outcome.position)

    stored = await idempotent(ctx, request, principal, work)
    return Response(content=stored.body, status_code=stored.status, media_type="application/json")


@post("/standards/{standard_id:uuid}/versions", responses=problem_responses(400, 401, 403, 404, 412, 415, 422))
async def add_version(
    standard_id: FromPath[UUID],
    data: JSONBody[NewVersion],
    request: Request[Any, Any, Any],
    principal: Caller,
    ctx: Context,
) -> Response[Any]:
    """Add the next version, a draft unless ``publish`` is true."""
    principal.require(Role.INSPECTOR)
    command = AddVersion(spec=data.spec(), publish=data.publish, by=principal.sub, at=ctx.clock.now())
    expected = if_match(request)

    async def work(connection: Connection | None) -> tuple[int, Any]:
        return 201, await _change(ctx, request, principal, standard_id, expected, command, connection)

    stored = await idempotent(ctx, request, principal, work)
    return Response(content=stored.body, status_code=stored.status, media_type="application/json")


@put(
    "/standards/{standard_id:uuid}/versions/{number:int}",
    responses=problem_responses(400, 401, 403, 404, 409, 412, 415, 422),
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
    principal.require(Role.INSPECTOR)
    spec: StandardVersionSpec = data.spec()
    command = ReviseVersion(version=number, spec=spec, by=principal.sub, at=ctx.clock.now())
    return await _change(ctx, request, principal, standard_id, if_match(request), command, None)


@post(
    "/standards/{standard_id:uuid}/versions/{number:int}/publish",
    status_code=200,
    responses=problem_responses(401, 403, 404, 409, 412),
)
async def publish_version(
    standard_id: FromPath[UUID], number: VersionNumber, request: Request[Any, Any, Any], principal: Caller, ctx: Context
) -> StandardView:
    """Publish a draft: from now on it never changes and orders and inspections may use it."""
    principal.require(Role.INSPECTOR)
    command = PublishVersion(version=number, by=principal.sub, at=ctx.clock.now())
    return await _change(ctx, request, principal, standard_id, if_match(request), command, None)


async def _change(
    ctx: ServiceContext,
    request: Request[Any, Any, Any],
    principal: Principal,
    standard_id: UUID,
    expected: int | None,
    command: StandardCommand,
    connection: Connection | None,
) -> StandardView:
    """Run a command on an existing standard of the caller's organisation."""
    stream = standard_stream(standard_id)

    async def work(unit: UnitOfWork) -> Standard:
        state = await unit.load(STANDARD, stream)
        if not state.exists:
            raise NotFound(f"no standard {standard_id}")
        if state.owner_org != principal.org and not principal.is_admin:
            raise Forbidden(f"only inspectors of {state.owner_org}, which owns this standard, may change it")
        check_version(expected, await unit.version(stream))
        new_state, _ = await unit.execute(STANDARD, stream, command)
        return new_state

    outcome = await run_command(ctx.store, work, metadata=command_metadata(request, principal), connection=connection)
    return standard_view(outcome.value, outcome.versions[stream], outcome.position)


@get("/standards", responses=problem_responses(401, 422))
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
    after = BY_ID.decode(cursor)
    query = sa.select(standards).order_by(standards.c.id).limit(limit + 1)
    if after is not None:
        query = query.where(standards.c.id > after[0])
    if q is not None:
        query = query.where(standards.c.name.ilike(f"%{escape_like(q)}%", escape="\\"))
    if owner_org is not None:
        query = query.where(standards.c.owner_org == owner_org)
    rows = await fetch(ctx.pool, query)
    return BY_ID.page(rows, limit, _summary, lambda standard: (standard.id,))


def _summary(r: Any) -> StandardSummary:
    return StandardSummary(
        id=r["id"],
        name=r["name"],
        description=r["description"],
        owner_org=r["owner_org"],
        created_at=r["created_at"],
        latest_version=r["latest_version"],
        latest_published=r["latest_published"],
        version=r["version"],
    )


@get("/standards/{standard_id:uuid}", responses=problem_responses(401, 404, 422))
async def get_standard(
    standard_id: FromPath[UUID], principal: Caller, ctx: Context, wait_for: WaitFor = None
) -> StandardView:
    """A standard with all its versions, drafts included."""
    await wait_for_position(ctx, wait_for)
    row = await fetchrow(ctx.pool, sa.select(standards).where(standards.c.id == standard_id))
    if row is None:
        raise NotFound(f"no standard {standard_id}")
    rows = await fetch(
        ctx.pool,
        sa.select(standard_versions)
        .where(standard_versions.c.standard_id == standard_id)
        .order_by(standard_versions.c.version),
    )
    versions = [
        version_view(r["version"], decode_json(r["spec"], StandardVersionSpec), r["drafted_at"], r["published_at"])
        for r in rows
    ]
    return StandardView(
        id=row["id"],
        name=row["name"],
        description=row["description"],
        owner_org=row["owner_org"],
        created_at=row["created_at"],
        latest_version=row["latest_version"],
        latest_published=row["latest_published"],
        versions=versions,
        version=row["version"],
    )


ROUTES = [create_standard, add_version, revise_version, publish_version, list_standards, get_standard]
