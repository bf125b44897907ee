"""Routes for inspections: open a lot or a first article with its plans, record the results once, read them."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from services.quality.api.bodies import InspectionResults, OpenInspection
from services.quality.domain.inspection import LotStatus
from services.quality.domain.verdicts import MeasuredValues
from services.quality.read import queries
from services.quality.read.views import InspectionView, inspection_view
from services.quality.use_cases import inspections as use_cases
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
from shared.eventstore import Connection
from shared.guards import Scope, allow
from shared.pages import Page
from shared.problems import problem_responses


@post("/inspections", guards=[allow(Role.INSPECTOR, scope=Scope.QUALITY_WRITE)], responses=problem_responses(409))
async def open_inspection(
    data: JSONBody[OpenInspection], request: Request[Any, Any, Any], principal: Caller, ctx: Context
) -> Response[InspectionView]:
    """Open an inspection; a lot's plan per defect class follows the MSME's current severity under the standard."""
    data.check_kind()

    async def work(connection: Connection | None) -> tuple[int, InspectionView]:
        metadata = command_metadata(request, principal)
        if data.kind == "lot":
            assert data.lot_id and data.pool_id and data.lot_size
            saved = await use_cases.open_lot_inspection(
                ctx,
                principal,
                metadata,
                connection,
                msme_id=data.msme_id,
                standard_id=data.standard_id,
                standard_version=data.standard_version,
                lot_id=data.lot_id,
                pool_id=data.pool_id,
                lot_size=data.lot_size,
                resubmitted=data.resubmitted,
            )
        else:
            assert data.product_id and data.sample_size
            saved = await use_cases.open_first_article(
                ctx,
                principal,
                metadata,
                connection,
                msme_id=data.msme_id,
                standard_id=data.standard_id,
                standard_version=data.standard_version,
                product_id=data.product_id,
                sample_size=data.sample_size,
            )
        return 201, inspection_view(saved.value, None, saved.version, saved.position)

    return stored_answer(await idempotent(ctx, request, principal, work), InspectionView)


@post(
    "/inspections/{inspection_id:uuid}/results",
    guards=[allow(Role.INSPECTOR, scope=Scope.QUALITY_WRITE)],
    responses=problem_responses(409, 412),
)
async def record_results(
    inspection_id: FromPath[UUID],
    data: JSONBody[InspectionResults],
    request: Request[Any, Any, Any],
    principal: Caller,
    ctx: Context,
) -> Response[InspectionView]:
    """Record defects per class and measurements; the verdict per class and for the lot follows, once."""
    expected = if_match(request)

    async def work(connection: Connection | None) -> tuple[int, InspectionView]:
        saved = await use_cases.record_results(
            ctx,
            principal,
            command_metadata(request, principal),
            connection,
            inspection_id=inspection_id,
            expected=expected,
            defects=dict(data.defects),
            measurements=[MeasuredValues(m.attribute, tuple(m.values)) for m in data.measurements],
        )
        inspection = saved.value
        assert inspection.opened is not None
        return 201, inspection_view(inspection.opened, inspection.verdict, saved.version, saved.position)

    return stored_answer(await idempotent(ctx, request, principal, work), InspectionView)


@get("/inspections/{inspection_id:uuid}", guards=[allow(scope=Scope.QUALITY_READ)])
async def get_inspection(
    inspection_id: FromPath[UUID],
    principal: Caller,
    ctx: Context,
    wait_for: WaitFor = None,
) -> InspectionView:
    """An inspection with its plans and, once recorded, its verdict."""
    await wait_for_position(ctx, wait_for)
    return await queries.inspection(ctx, principal, inspection_id)


@get("/inspections", guards=[allow(Role.INSPECTOR, Role.MSME, scope=Scope.QUALITY_READ)])
async def list_inspections(
    principal: Caller,
    ctx: Context,
    limit: Limit = 50,
    cursor: Cursor = None,
    msme_id: Annotated[UUID | None, QueryParameter(name="msme_id")] = None,
    standard_id: Annotated[UUID | None, QueryParameter(name="standard_id")] = None,
    status: Annotated[LotStatus | None, QueryParameter(name="status")] = None,
    wait_for: WaitFor = None,
) -> Page[InspectionView]:
    """The inspections the caller may see (its organisation's, or its MSMEs'), oldest first."""
    await wait_for_position(ctx, wait_for)
    return await queries.inspections_page(
        ctx, principal, limit, cursor, msme_id=msme_id, standard_id=standard_id, status=status
    )


ROUTES = [open_inspection, record_results, get_inspection, list_inspections]
