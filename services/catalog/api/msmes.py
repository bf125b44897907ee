"""Routes of MSMEs: register, read, update (incl. suspension), certifications and listing products."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Request, Response, get, patch, post
from litestar.params import FromPath, JSONBody
from msgspec import UNSET

from services.catalog import commands
from services.catalog.api.bodies import CertificationBody, MsmePatch, ProductBody, RegisterMsmeBody
from services.catalog.domain.msme import AddCertification, MsmeChanges, RegisterMsme, UpdateMsme
from services.catalog.domain.product import ProductSpec
from services.catalog.domain.rules import month_of
from services.catalog.read.queries import product_from_outcome, read_msme
from services.catalog.read.views import MsmeView, ProductView, msme_from_state
from services.catalog.standards import refuse_unknown_standards
from shared.api import Caller, Context, WaitFor, command_metadata, idempotent, if_match, wait_for_position
from shared.auth import Principal, Role
from shared.decider import UnitOfWork, run_command
from shared.errors import Forbidden, InvalidInput
from shared.eventstore import Connection
from shared.ids import new_id
from shared.problems import problem_responses

Stored = tuple[int, Any]


def _owner_org(principal: Principal, requested: str | None) -> str:
    """MSME users register for their own organisation; aggregators and admins name the owner."""
    if principal.role is Role.MSME:
        if requested is not None and requested != principal.org:
            raise Forbidden("an MSME user registers MSMEs of its own organisation only")
        return principal.org
    if requested is None:
        raise InvalidInput.of("org", "is required when registering an MSME on its behalf")
    return requested


@post("/msmes", responses=problem_responses(400, 401, 403, 409, 415, 422))
async def register_msme(
    data: JSONBody[RegisterMsmeBody], request: Request[Any, Any, Any], principal: Caller, ctx: Context
) -> Response[Any]:
    """Register a producer. Aggregators and admins register on an MSME's behalf and give its ``org``."""
    principal.require(Role.MSME, Role.AGGREGATOR)
    org = _owner_org(principal, data.org)
    now = ctx.clock.now()
    command = RegisterMsme(
        msme_id=new_id(),
        org=org,
        name=data.name,
        nib=data.nib,
        province=data.province,
        city=data.city,
        contact=data.contact.contact(),
        size_class=data.size_class,
        registered_by=principal.org,
        at=now,
    )

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

    stored = await idempotent(ctx, request, principal, work)
    return Response(content=stored.body, status_code=stored.status, media_type="application/json")


@get("/msmes/{msme_id:uuid}", responses=problem_responses(401, 404, 422))
async def get_msme(
    msme_id: FromPath[UUID],
    principal: Caller,
    ctx: Context,
    wait_for: WaitFor = None,
) -> MsmeView:
    """An MSME's public profile, its certifications (``valid`` as of today) and how many products it lists."""
    await wait_for_position(ctx, wait_for)
    return await read_msme(ctx.pool, msme_id, today=ctx.clock.now().date(), principal=principal)


@patch("/msmes/{msme_id:uuid}", responses=problem_responses(400, 401, 403, 404, 409, 412, 415, 422))
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
    changes = MsmeChanges(
        name=_given(data.name),
        province=_given(data.province),
        city=_given(data.city),
        contact=data.contact.contact() if data.contact is not UNSET else None,
        size_class=_given(data.size_class),
        status=_given(data.status),
    )
    command = UpdateMsme(changes=changes, status_reason=_given(data.status_reason), at=now)

    async def work(unit: UnitOfWork) -> commands.MsmeOutcome:
        return await commands.update_msme(unit, principal, msme_id, command, expected)

    outcome = await run_command(ctx.store, work, metadata=command_metadata(request, principal))
    updated = outcome.value
    return msme_from_state(
        updated.msme, today=now.date(), principal=principal, version=updated.version, position=outcome.position
    )


def _given(value: Any) -> Any:
    return None if value is UNSET else value


@post("/msmes/{msme_id:uuid}/certifications", responses=problem_responses(400, 401, 403, 404, 409, 415, 422))
async def add_certification(
    msme_id: FromPath[UUID],
    data: JSONBody[CertificationBody],
    request: Request[Any, Any, Any],
    principal: Caller,
    ctx: Context,
) -> Response[Any]:
    """Record a certificate (halal, SNI, BPOM, SVLK, ISO 9001, organic, fair trade, or another by name)."""
    now = ctx.clock.now()
    command = AddCertification(
        certification_id=new_id(),
        kind=data.kind,
        name=data.name,
        number=data.number,
        issuer=data.issuer,
        valid_from=data.valid_from,
        valid_until=data.valid_until,
        at=now,
    )

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

    stored = await idempotent(ctx, request, principal, work)
    return Response(content=stored.body, status_code=stored.status, media_type="application/json")


def product_spec(data: ProductBody) -> ProductSpec:
    return ProductSpec(
        sku=data.sku,
        name=data.name,
        description=data.description,
        hs_code=data.hs_code,
        category=data.category,
        unit=data.unit,
        moq=data.moq,
        price_tiers=[t.tier() for t in data.price_tiers],
        lead_time_days=data.lead_time_days,
        standards=[s.ref() for s in data.standards],
        origin_plots=[p.plot() for p in data.origin_plots],
    )


@post("/msmes/{msme_id:uuid}/products", responses=problem_responses(400, 401, 403, 404, 409, 415, 422))
async def list_product(
    msme_id: FromPath[UUID],
    data: JSONBody[ProductBody],
    request: Request[Any, Any, Any],
    principal: Caller,
    ctx: Context,
) -> Response[Any]:
    """List a product of this MSME; its SKU must be unique within the MSME (409 otherwise)."""
    await refuse_unknown_standards(ctx, data.standards)
    now = ctx.clock.now()
    product_id = new_id()
    spec = product_spec(data)

    async def listing(unit: UnitOfWork) -> ProductView:
        listed = await commands.list_product(unit, principal, msme_id, product_id, spec, now)
        return await product_from_outcome(unit.connection, listed, first_month=month_of(now))

    async def work(connection: Connection | None) -> Stored:
        metadata = command_metadata(request, principal)
        outcome = await run_command(ctx.store, listing, metadata=metadata, connection=connection)
        return 201, msgspec.structs.replace(outcome.value, position=outcome.position)

    stored = await idempotent(ctx, request, principal, work)
    return Response(content=stored.body, status_code=stored.status, media_type="application/json")
