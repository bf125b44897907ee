"""Routes for an MSME's quality: its record per standard, and resuming its discontinued inspection."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Request, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from services.quality.api.bodies import Resume
from services.quality.read import queries
from services.quality.read.views import MsmeQuality, StandardQuality, standard_quality
from services.quality.use_cases import inspections as use_cases
from shared.api import Caller, Context, WaitFor, command_metadata, wait_for_position
from shared.auth import Role
from shared.guards import Scope, allow
from shared.problems import problem_responses


@get("/msmes/{msme_id:uuid}/quality", guards=[allow(scope=Scope.QUALITY_READ)])
async def get_msme_quality(
    msme_id: FromPath[UUID],
    principal: Caller,
    ctx: Context,
    standard_id: Annotated[UUID | None, QueryParameter(name="standard_id")] = None,
    wait_for: WaitFor = None,
) -> MsmeQuality:
    """Per standard: state, lots accepted and rejected, process average and a quality score with its method.

    An MSME's users see only their own MSMEs; buyers, aggregators, inspectors and admins see any.
    """
    await wait_for_position(ctx, wait_for)
    return await queries.quality_of_msme(ctx, principal, msme_id, standard_id)


@post(
    "/msmes/{msme_id:uuid}/quality/{standard_id:uuid}/resume",
    status_code=200,
    guards=[allow(Role.INSPECTOR, scope=Scope.QUALITY_WRITE)],
    responses=problem_responses(409),
)
async def resume_inspection(
    msme_id: FromPath[UUID],
    standard_id: FromPath[UUID],
    data: JSONBody[Resume],
    request: Request[Any, Any, Any],
    principal: Caller,
    ctx: Context,
) -> StandardQuality:
    """After corrective action, discontinued inspection of the MSME under the standard restarts at tightened."""
    saved = await use_cases.resume_inspection(
        ctx,
        principal,
        command_metadata(request, principal),
        msme_id=msme_id,
        standard_id=standard_id,
        corrective_action=data.corrective_action,
    )
    return standard_quality(saved.value, saved.version, saved.position)


ROUTES = [get_msme_quality, resume_inspection]
