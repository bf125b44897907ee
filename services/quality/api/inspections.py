"""Routes for inspections: open a lot or a first article with its plans, record the results once, read them."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

import sqlalchemy as sa
from litestar import Request, Response, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from events.quality import FirstArticleApproved, FirstArticleRejected, InspectionOpened, LotAccepted, LotRejected
from services.quality.api.bodies import InspectionResults, OpenInspection
from services.quality.domain.inspection import (
    INSPECTION,
    Inspection,
    OpenFirstArticle,
    OpenLotInspection,
    RecordResults,
    StandardUsed,
    Verdict,
    inspection_stream,
)
from services.quality.domain.quality_record import QUALITY_RECORD, RecordFirstArticle, RecordLot, record_stream
from services.quality.domain.standard import STANDARD, standard_stream
from services.quality.domain.verdicts import Measurement
from services.quality.read.queries import lot_inspections, sees_inspection
from services.quality.read.tables import inspections, msme_owners
from services.quality.read.views import InspectionView, decode_json, inspection_view
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
from shared.auth import Role
from shared.decider import UnitOfWork, run_command
from shared.errors import FieldError, InvalidInput, NotFound
from shared.eventstore import Connection
from shared.ids import new_id
from shared.pages import BY_ID, Page
from shared.problems import problem_responses
from shared.sql import fetch, fetchrow

_LOT_FIELDS = ("lot_id", "pool_id", "lot_size")
_FIRST_ARTICLE_FIELDS = ("product_id", "sample_size")


def _check_kind(data: OpenInspection) -> None:
    """A lot needs lot, pool and lot size; a first article needs product and sample size; neither takes the other's."""
    needed, foreign = (
        (_LOT_FIELDS, _FIRST_ARTICLE_FIELDS) if data.kind == "lot" else (_FIRST_ARTICLE_FIELDS, _LOT_FIELDS)
    )
    kind = data.kind.replace("_", " ")
    errors = [FieldError(name, f"is required for a {kind}") for name in needed if getattr(data, name) is None]
    errors += [FieldError(name, f"does not apply to a {kind}") for name in foreign if getattr(data, name) is not None]
    if data.kind == "first_article" and data.resubmitted:
        errors.append(FieldError("resubmitted", "does not apply to a first article"))
    if errors:
        raise InvalidInput(errors)


async def _standard_used(unit: UnitOfWork, standard_id: UUID, number: int) -> StandardUsed:
    standard = await unit.load(STANDARD, standard_stream(standard_id))
    if not standard.exists:
        raise InvalidInput.of("standard_id", "is not a standard")
    if not 1 <= number <= len(standard.versions):
        raise InvalidInput.of("standard_version", f"standard {standard_id} has no version {number}")
    version = standard.version(number)
    if not version.published:
        raise InvalidInput.of("standard_version", "is a draft; only published versions are inspected against")
    return StandardUsed(standard_id, number, version.spec)


@post("/inspections", responses=problem_responses(400, 401, 403, 409, 415, 422))
async def open_inspection(
    data: JSONBody[OpenInspection], request: Request[Any, Any, Any], principal: Caller, ctx: Context
) -> Response[Any]:
    """Open an inspection; a lot's plan per defect class follows the MSME's current severity under the standard."""
    principal.require(Role.INSPECTOR)
    _check_kind(data)
    inspection_id, at = new_id(), ctx.clock.now()
    stream = inspection_stream(inspection_id)

    async def decide(unit: UnitOfWork) -> Inspection:
        standard = await _standard_used(unit, data.standard_id, data.standard_version)
        record = await unit.load(QUALITY_RECORD, record_stream(data.msme_id, data.standard_id))
        command: OpenLotInspection | OpenFirstArticle
        if data.kind == "lot":
            assert data.lot_id and data.pool_id and data.lot_size
            earlier = await lot_inspections(unit.connection, ctx.schema, data.lot_id)
            command = OpenLotInspection(
                inspection_id=inspection_id,
                lot_id=data.lot_id,
                pool_id=data.pool_id,
                msme_id=data.msme_id,
                lot_size=data.lot_size,
                resubmitted=data.resubmitted,
                standard=standard,
                severity=record.switching.severity.value,
                discontinued=record.discontinued,
                inspector_org=principal.org,
                by=principal.sub,
                at=at,
                earlier=tuple(status for org, status in earlier if org == principal.org),
                second_opinion=any(org != principal.org for org, _ in earlier),
            )
        else:
            assert data.product_id and data.sample_size
            command = OpenFirstArticle(
                inspection_id=inspection_id,
                msme_id=data.msme_id,
                product_id=data.product_id,
                sample_size=data.sample_size,
                standard=standard,
                discontinued=record.discontinued,
                inspector_org=principal.org,
                by=principal.sub,
                at=at,
            )
        state, _ = await unit.execute(INSPECTION, stream, command)
        return state

    # One lot is inspected by one inspection at a time: its lock keeps a second one from slipping in.
    locks = [f"lot:{data.lot_id}"] if data.lot_id else []

    async def work(connection: Connection | None) -> tuple[int, Any]:
        outcome = await run_command(
            ctx.store, decide, metadata=command_metadata(request, principal), connection=connection, lock_streams=locks
        )
        assert outcome.value.opened is not None
        return 201, inspection_view(outcome.value.opened, None, outcome.versions[stream], outcome.position)

    stored = await idempotent(ctx, request, principal, work)
    return Response(content=stored.body, status_code=stored.status, media_type="application/json")


@post(
    "/inspections/{inspection_id:uuid}/results",
    responses=problem_responses(400, 401, 403, 404, 409, 412, 415, 422),
)
async def record_results(
    inspection_id: FromPath[UUID],
    data: JSONBody[InspectionResults],
    request: Request[Any, Any, Any],
    principal: Caller,
    ctx: Context,
) -> Response[Any]:
    """Record defects per class and measurements; the verdict per class and for the lot follows, once."""
    principal.require(Role.INSPECTOR)
    expected = if_match(request)
    stream = inspection_stream(inspection_id)
    at = ctx.clock.now()
    measurements = [Measurement(m.attribute, tuple(m.values)) for m in data.measurements]

    async def decide(unit: UnitOfWork) -> Inspection:
        inspection = await unit.load(INSPECTION, stream)
        opened = inspection.opened
        if opened is None or not (principal.is_admin or opened.inspector_org == principal.org):
            raise NotFound(f"no inspection {inspection_id}")
        check_version(expected, await unit.version(stream))
        spec = (await unit.load(STANDARD, standard_stream(opened.standard_id))).version(opened.standard_version).spec
        command = RecordResults(
            defects=dict(data.defects), measurements=measurements, spec=spec, by=principal.sub, at=at
        )
        state, (verdict,) = await unit.execute(INSPECTION, stream, command)
        record = record_stream(opened.msme_id, opened.standard_id)
        match verdict:
            case LotAccepted() | LotRejected():
                await unit.execute(QUALITY_RECORD, record, RecordLot(verdict, spec))
            case FirstArticleApproved() | FirstArticleRejected():
                await unit.execute(QUALITY_RECORD, record, RecordFirstArticle(verdict, spec))
        return state

    # The verdict also writes the MSME's record, which other inspections contend for: lock both, in order.
    history, _ = await ctx.store.load(stream)
    opened = next((e for e in history if isinstance(e, InspectionOpened)), None)
    streams = [stream, record_stream(opened.msme_id, opened.standard_id)] if opened else [stream]

    async def work(connection: Connection | None) -> tuple[int, Any]:
        outcome = await run_command(
            ctx.store,
            decide,
            metadata=command_metadata(request, principal),
            connection=connection,
            lock_streams=streams,
        )
        state = outcome.value
        assert state.opened is not None
        return 201, inspection_view(state.opened, state.verdict, outcome.versions[stream], outcome.position)

    stored = await idempotent(ctx, request, principal, work)
    return Response(content=stored.body, status_code=stored.status, media_type="application/json")


def _view(row: Any) -> InspectionView:
    opened = decode_json(row["opened"], InspectionOpened)
    verdict: Verdict | None = None
    if row["verdict"] is not None:
        verdict = decode_json(row["verdict"], LotAccepted | LotRejected | FirstArticleApproved | FirstArticleRejected)
    return inspection_view(opened, verdict, row["version"])


@get("/inspections/{inspection_id:uuid}", responses=problem_responses(401, 404, 422))
async def get_inspection(
    inspection_id: FromPath[UUID],
    principal: Caller,
    ctx: Context,
    wait_for: WaitFor = None,
) -> InspectionView:
    """An inspection with its plans and, once recorded, its verdict."""
    await wait_for_position(ctx, wait_for)
    row = await fetchrow(ctx.pool, sa.select(inspections).where(inspections.c.id == inspection_id))
    if row is None or not await sees_inspection(ctx, principal, row["inspector_org"], row["msme_id"]):
        raise NotFound(f"no inspection {inspection_id}")
    return _view(row)


@get("/inspections", responses=problem_responses(401, 403, 422))
async def list_inspections(
    principal: Caller,
    ctx: Context,
    limit: Limit = 50,
    cursor: Cursor = None,
    msme_id: Annotated[UUID | None, QueryParameter(name="msme_id")] = None,
    standard_id: Annotated[UUID | None, QueryParameter(name="standard_id")] = None,
    status: Annotated[Literal["open", "accepted", "rejected"] | None, QueryParameter(name="status")] = None,
    wait_for: WaitFor = None,
) -> Page[InspectionView]:
    """The inspections the caller may see (its organisation's, or its MSMEs'), oldest first."""
    principal.require(Role.INSPECTOR, Role.MSME)
    await wait_for_position(ctx, wait_for)
    query = sa.select(inspections).order_by(inspections.c.id).limit(limit + 1)
    if principal.role is Role.INSPECTOR:
        query = query.where(inspections.c.inspector_org == principal.org)
    elif principal.role is Role.MSME:
        owned = sa.select(msme_owners.c.msme_id).where(msme_owners.c.org == principal.org)
        query = query.where(inspections.c.msme_id.in_(owned))
    after = BY_ID.decode(cursor)
    if after is not None:
        query = query.where(inspections.c.id > after[0])
    for column, value in ((inspections.c.msme_id, msme_id), (inspections.c.standard_id, standard_id)):
        if value is not None:
            query = query.where(column == value)
    if status is not None:
        query = query.where(inspections.c.status == status)
    rows = await fetch(ctx.pool, query)
    return BY_ID.page(rows, limit, _view, lambda inspection: (inspection.id,))


ROUTES = [open_inspection, record_results, get_inspection, list_inspections]
