"""Routes for sampling plans and for an MSME's quality: its record per standard, and resuming inspection."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

import msgspec
import sqlalchemy as sa
from litestar import Request, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from events.quality import MsmeQualityAssessed
from services.quality.api.bodies import Resume
from services.quality.domain.quality_record import QUALITY_RECORD, ResumeInspection, record_stream
from services.quality.domain.sampling import (
    MINIMUM_LOT_SIZE,
    InvalidAql,
    InvalidSamplingParameter,
    parse_aql,
    parse_level,
    parse_severity,
    sampling_plan,
)
from services.quality.domain.scoring import SCORE_METHOD, quality_score
from services.quality.domain.standard import STANDARD, standard_stream
from services.quality.read.queries import may_resume, msme_owner
from services.quality.read.tables import msme_quality
from services.quality.read.views import MsmeQuality, StandardQuality, decode_json, standard_quality
from shared.api import Caller, Context, WaitFor, command_metadata, wait_for_position
from shared.auth import Role
from shared.bounds import MAX_QUANTITY, RATE
from shared.decider import UnitOfWork, run_command
from shared.errors import FieldError, Forbidden, InvalidInput, NotFound
from shared.problems import problem_responses
from shared.sql import fetch
from shared.validation import is_digits


class SamplingPlanView(msgspec.Struct, frozen=True, kw_only=True):
    """Inspect ``sample_size`` units; accept the lot with at most ``accept`` defects, reject it at ``reject``."""

    lot_size: int
    aql: Decimal
    level: str
    severity: str
    code_letter: str
    plan_letter: str
    sample_size: int
    accept: int
    reject: int
    inspect_whole_lot: bool


@get("/sampling-plans", responses=problem_responses(401, 422))
async def get_sampling_plan(
    lot_size: Annotated[
        str | None, QueryParameter(name="lot_size", max_length=20, description="items in the lot, 2 to 100,000,000")
    ] = None,
    aql: Annotated[
        str | None,
        QueryParameter(name="aql", max_length=20, description="an AQL of the preferred series, 0.010 … 1000"),
    ] = None,
    level: Annotated[str, QueryParameter(name="level", max_length=3, description="I, II, III or S-1 … S-4")] = "II",
    severity: Annotated[
        str, QueryParameter(name="severity", max_length=9, description="normal, tightened or reduced")
    ] = "normal",
) -> SamplingPlanView:
    """The single sampling plan for a lot (ISO 2859-1:1999, Tables 1, 2-A, 2-B and 2-C), arrows followed.

    Every bad or missing parameter is named in one 422.
    """
    errors: list[FieldError] = []
    size = _lot_size(lot_size, errors)
    parsed: dict[str, Any] = {}
    checks = (("aql", _aql, aql), ("level", parse_level, level), ("severity", parse_severity, severity))
    for name, parse, raw in checks:
        if raw is None:
            errors.append(FieldError(name, "is required"))
            continue
        try:
            parsed[name] = parse(raw)
        except InvalidSamplingParameter as error:
            errors.append(FieldError(error.field, error.message))
    if errors or size is None:
        raise InvalidInput(errors)
    plan = sampling_plan(size, parsed["aql"], parsed["level"], parsed["severity"])
    return SamplingPlanView(
        lot_size=size,
        aql=plan.aql,
        level=plan.level.value,
        severity=plan.severity.value,
        code_letter=plan.code_letter,
        plan_letter=plan.plan_letter,
        sample_size=plan.sample_size,
        accept=plan.accept,
        reject=plan.reject,
        inspect_whole_lot=plan.inspect_whole_lot,
    )


def _aql(raw: str) -> Decimal:
    """An AQL of the preferred series, written plainly like every decimal Gotong takes (not ``1e0``)."""
    if not RATE.admits(raw.strip()):
        raise InvalidAql(raw)
    return parse_aql(raw)


def _lot_size(raw: str | None, errors: list[FieldError]) -> int | None:
    if raw is None:
        errors.append(FieldError("lot_size", "is required"))
        return None
    digits = raw.strip()
    if not is_digits(digits) or not MINIMUM_LOT_SIZE <= int(digits) <= MAX_QUANTITY:
        errors.append(
            FieldError(
                "lot_size", f"must be a whole number of {MINIMUM_LOT_SIZE} to {MAX_QUANTITY:,} items, not {raw!r}"
            )
        )
        return None
    return int(digits)


@get("/msmes/{msme_id:uuid}/quality", responses=problem_responses(401, 404, 422))
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
    if principal.role is Role.MSME and await msme_owner(ctx, msme_id) != principal.org:
        raise NotFound(f"no MSME {msme_id}")
    query = sa.select(msme_quality).where(msme_quality.c.msme_id == msme_id).order_by(msme_quality.c.standard_id)
    if standard_id is not None:
        query = query.where(msme_quality.c.standard_id == standard_id)
    rows = await fetch(ctx.pool, query)
    standards = [standard_quality(decode_json(r["assessment"], MsmeQualityAssessed), r["version"]) for r in rows]
    return MsmeQuality(
        msme_id=msme_id,
        standards=standards,
        score_without_history=quality_score(0, 0, []),
        score_method=SCORE_METHOD,
    )


@post(
    "/msmes/{msme_id:uuid}/quality/{standard_id:uuid}/resume",
    status_code=200,
    responses=problem_responses(400, 401, 403, 404, 409, 415, 422),
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
    principal.require(Role.INSPECTOR)
    stream = record_stream(msme_id, standard_id)
    at: datetime = ctx.clock.now()

    async def work(unit: UnitOfWork) -> MsmeQualityAssessed:
        record = await unit.load(QUALITY_RECORD, stream)
        if record.msme_id is None:
            raise NotFound(f"MSME {msme_id} has never been inspected under standard {standard_id}")
        standard = await unit.load(STANDARD, standard_stream(standard_id))
        if not await may_resume(unit.connection, ctx.schema, principal, standard.owner_org, msme_id, standard_id):
            raise Forbidden(
                "only inspectors of the organisation that owns the standard, or of one that inspected the MSME "
                "under it, may resume its inspection"
            )
        command = ResumeInspection(
            msme_id=msme_id,
            standard_id=standard_id,
            corrective_action=data.corrective_action,
            inspector_org=principal.org,
            by=principal.sub,
            at=at,
        )
        _, events = await unit.execute(QUALITY_RECORD, stream, command)
        assessed = events[-1]
        assert isinstance(assessed, MsmeQualityAssessed)
        return assessed

    outcome = await run_command(ctx.store, work, metadata=command_metadata(request, principal), lock_streams=[stream])
    return standard_quality(outcome.value, outcome.versions[stream], outcome.position)


ROUTES = [get_sampling_plan, get_msme_quality, resume_inspection]
