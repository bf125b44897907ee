"""Routes of MSMEs: register, read, update (incl. suspension), certifications and listing products."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, Response, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from services.catalog import commands
from services.catalog.api.bodies import CertificationBody, MsmePatch, ProductBody, RegisterMsmeBody
from services.catalog.read.queries import MsmeFilter, product_from_outcome, read_msme
from services.catalog.read.queries import list_msmes as list_msme_page
from services.catalog.read.views import MsmeSummary, MsmeView, ProductView, msme_from_state
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
from shared.decider import UnitOfWork, run_command
from shared.eventstore import Connection
from shared.guards import Scope, allow
from shared.kernel.ids import new_id
from shared.kernel.months import month_of
from shared.pages import BY_ID, Page
from shared.problems import problem_responses

Stored = tuple[int, Any]


@post("/msmes", guards=[allow(Role.MSME, Role.AGGREGATOR, scope=Scope.CATALOG_WRITE)], responses=problem_responses(409))
async def register_msme(
    data: JSONBody[RegisterMsmeBody], request: Request[Any, Any, Any], principal: Caller, ctx: Context
) -> Response[MsmeView]:
    """Register a producer. Aggregators and admins register on an MSME's behalf and give its ``org``."""
    org = commands.owning_org(principal, data.org)
    now = ctx.clock.now()
    command = data.command(new_id(), org, registered_by=principal.org, at=now)

    async def work(connection: Connection | None) -> Stored:
        outcome = await run_command(
            ctx.store,
            lambda unit: commands.register_msme(unit, command),
            metadata=command_metadata(request, principal),
            connection=connection,
        )
        registered = outcome.value
        view = msme_from_state(
            registered.msme,
            today=now.date(),
            principal=principal,
            version=registered.version,
            position=outcome.position,
        )
        return 201, view

    return stored_answer(await idempotent(ctx, request, principal, work), MsmeView)


MsmeStatus = Annotated[
    str | None,
    QueryParameter(name="status", pattern="^(active|suspended)$", max_length=9, description="active, suspended"),
]


@get("/msmes", guards=[allow(scope=Scope.CATALOG_READ)])
async def list_msmes(
    principal: Caller,
    ctx: Context,
    org: Annotated[str | None, QueryParameter(name="org", max_length=200, description="owning organisation")] = None,
    registered_by: Annotated[
        str | None,
        QueryParameter(name="registered_by", max_length=200, description="the organisation that onboarded it"),
    ] = None,
    province: Annotated[str | None, QueryParameter(name="province", max_length=60)] = None,
    city: Annotated[str | None, QueryParameter(name="city", max_length=60)] = None,
    status: MsmeStatus = None,
    certification: Annotated[
        str | None,
        QueryParameter(name="certification", max_length=210, description="kind, valid on certified_on"),
    ] = None,
    certified_on: Annotated[date | None, QueryParameter(name="certified_on", description="default today")] = None,
    q: Annotated[str | None, QueryParameter(name="q", max_length=200, description="part of the name")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
    wait_for: WaitFor = None,
) -> Page[MsmeSummary]:
    """MSMEs in id order, filtered; an aggregator lists those it onboarded with ``registered_by=<its org>``.

    Suspended MSMEs show only to aggregators, admins and users of their own organisation."""
    await wait_for_position(ctx, wait_for)
    after = BY_ID.decode(cursor)
    wanted = MsmeFilter(
        org=org,
        registered_by=registered_by,
        province=province,
        city=city,
        status=status,
        certification=certification.strip().lower() if certification else None,
        certified_on=certified_on or ctx.clock.now().date(),
        q=q,
    )
    return await list_msme_page(ctx.pool, principal, wanted, after=after[0] if after else None, limit=limit)


@get("/msmes/{msme_id:uuid}", guards=[allow(scope=Scope.CATALOG_READ)])
async def get_msme(
    msme_id: FromPath[UUID],
    principal: Caller,
    ctx: Context,
    wait_for: WaitFor = None,
) -> MsmeView:
    """An MSME's public profile, its certifications (``valid`` as of today) and how many products it lists."""
    await wait_for_position(ctx, wait_for)
    return await read_msme(ctx.pool, msme_id, today=ctx.clock.now().date(), principal=principal)


@patch(
    "/msmes/{msme_id:uuid}",
    guards=[allow(Role.MSME, Role.AGGREGATOR, scope=Scope.CATALOG_WRITE)],
    responses=problem_responses(409, 412),
)
async def update_msme(
    msme_id: FromPath[UUID],
    data: JSONBody[MsmePatch],
    request: Request[Any, Any, Any],
    principal: Caller,
    ctx: Context,
) -> MsmeView:
    """Change the profile (owner or admin) or the status (admin or aggregator: suspend, reinstate)."""
    expected = if_match(request)
    now = ctx.clock.now()
    command = data.command(at=now)

    async def work(unit: UnitOfWork) -> commands.MsmeOutcome:
        return await commands.update_msme(unit, principal, msme_id, command, expected)

    outcome = await run_command(ctx.store, work, metadata=command_metadata(request, principal))
    updated = outcome.value
    return msme_from_state(
        updated.msme, today=now.date(), principal=principal, version=updated.version, position=outcome.position
    )


@post(
    "/msmes/{msme_id:uuid}/certifications",
    guards=[allow(Role.MSME, Role.AGGREGATOR, scope=Scope.CATALOG_WRITE)],
    responses=problem_responses(409),
)
async def add_certification(
    msme_id: FromPath[UUID],
    data: JSONBody[CertificationBody],
    request: Request[Any, Any, Any],
    principal: Caller,
    ctx: Context,
) -> Response[MsmeView]:
    """Record a certificate (halal, SNI, BPOM, SVLK, ISO 9001, organic, fair trade, or another by name)."""
    now = ctx.clock.now()
    command = data.command(new_id(), at=now)

    async def work(connection: Connection | None) -> Stored:
        outcome = await run_command(
            ctx.store,
            lambda unit: commands.add_certification(unit, principal, msme_id, command),
            metadata=command_metadata(request, principal),
            connection=connection,
        )
        certified = outcome.value
        view = msme_from_state(
            certified.msme, today=now.date(), principal=principal, version=certified.version, position=outcome.position
        )
        return 201, view

    return stored_answer(await idempotent(ctx, request, principal, work), MsmeView)


@post(
    "/msmes/{msme_id:uuid}/products",
    guards=[allow(Role.MSME, Role.AGGREGATOR, scope=Scope.CATALOG_WRITE)],
    responses=problem_responses(409),
)
async def list_product(
    msme_id: FromPath[UUID],
    data: JSONBody[ProductBody],
    request: Request[Any, Any, Any],
    principal: Caller,
    ctx: Context,
) -> Response[ProductView]:
    """List a product of this MSME; its SKU must be unique within the MSME (409 otherwise)."""
    now = ctx.clock.now()
    product_id = new_id()
    spec = data.spec()
    await commands.check_listing(ctx.store, principal, msme_id, spec)

    async def listing(unit: UnitOfWork) -> ProductView:
        listed = await commands.list_product(unit, principal, msme_id, product_id, spec, now)
        return await product_from_outcome(unit.connection, listed, first_month=month_of(now))

    async def work(connection: Connection | None) -> Stored:
        metadata = command_metadata(request, principal)
        outcome = await run_command(ctx.store, listing, metadata=metadata, connection=connection)
        return 201, msgspec.structs.replace(outcome.value, position=outcome.position)

    return stored_answer(await idempotent(ctx, request, principal, work), ProductView)
