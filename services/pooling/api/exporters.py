"""Routes of aggregators' exporter profiles, which trade documents and export declarations show."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, put
from litestar.params import JSONBody, PathParameter

from services.pooling.api.bodies import ExporterProfileBody
from services.pooling.domain.exporter_profile import ExporterProfile
from services.pooling.use_cases import exporters
from shared.api import Caller, Context, command_metadata, idempotent, if_match, stored_answer
from shared.auth import Role
from shared.eventstore import Connection
from shared.guards import Scope, allow
from shared.problems import problem_responses

Org = Annotated[str, PathParameter(max_length=100)]


class ExporterProfileView(msgspec.Struct, frozen=True, kw_only=True):
    org: str
    name: str
    nib: str
    npwp: str
    address: str
    version: int
    position: int = 0


def _view(profile: ExporterProfile, version: int, position: int = 0) -> ExporterProfileView:
    return ExporterProfileView(
        org=profile.org, name=profile.name, nib=profile.nib, npwp=profile.npwp, address=profile.address,
        version=version, position=position,
    )  # fmt: skip


@put(
    "/aggregators/{org:str}/exporter-profile",
    guards=[allow(Role.AGGREGATOR, scope=Scope.POOLS_WRITE)],
    responses=problem_responses(412),
)
async def set_exporter_profile(
    org: Org, data: JSONBody[ExporterProfileBody], request: Request[Any, Any, Any], principal: Caller, ctx: Context
) -> Response[ExporterProfileView]:
    """Set the organisation's exporter profile (its own aggregators or an admin): the name, NIB, NPWP and address
    its trade documents and export declarations (PEB) show instead of its organisation id."""
    expected, metadata = if_match(request), command_metadata(request, principal)

    async def work(connection: Connection | None) -> tuple[int, ExporterProfileView]:
        outcome = await exporters.set_profile(
            ctx, principal, org, name=data.name, nib=data.nib, npwp=data.npwp, address=data.address,
            at=ctx.clock.now(), expected=expected, metadata=metadata, connection=connection,
        )  # fmt: skip
        profile, version = outcome.value
        return 200, _view(profile, version, outcome.position)

    return stored_answer(await idempotent(ctx, request, principal, work), ExporterProfileView)


@get("/aggregators/{org:str}/exporter-profile", guards=[allow(Role.AGGREGATOR, scope=Scope.POOLS_READ)])
async def get_exporter_profile(org: Org, principal: Caller, ctx: Context) -> ExporterProfileView:
    """The organisation's exporter profile, to its own aggregators and admins (404 before one is set)."""
    profile, version = await exporters.read_profile(ctx, principal, org)
    return _view(profile, version)


ROUTES = [set_exporter_profile, get_exporter_profile]
