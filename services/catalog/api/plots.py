"""Routes of MSMEs' production places (plots): register, list, read, withdraw."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from services.catalog import commands
from services.catalog.api.bodies import PlotBody, WithdrawPlotBody
from services.catalog.domain.msme import MSME, msme_stream
from services.catalog.read.plots import PlotStatus, PlotView, msme_plots, plot_from_state, read_plot
from shared.api import (
    Caller,
    Context,
    Cursor,
    Limit,
    WaitFor,
    command_metadata,
    idempotent,
    stored_answer,
    wait_for_position,
)
from shared.auth import Principal, Role
from shared.decider import UnitOfWork, fold_stream, run_command
from shared.eventstore import Connection
from shared.guards import allow
from shared.kernel.errors import Forbidden, NotFound
from shared.kernel.ids import new_id
from shared.kernel.scopes import Scope
from shared.pages import Page
from shared.problems import problem_responses

Commodity = Annotated[str | None, QueryParameter(name="commodity", max_length=20)]
Status = Annotated[PlotStatus | None, QueryParameter(name="status")]
READERS = (Role.MSME, Role.AGGREGATOR)


async def _may_read(ctx: Any, principal: Principal, msme_id: UUID) -> None:
    """Aggregators (who source from MSMEs) and admins read any MSME's plots; MSME users their own."""
    msme, _ = await fold_stream(ctx.store, MSME, msme_stream(msme_id))
    if not msme.registered:
        raise NotFound(f"no MSME {msme_id}")
    if principal.role is not Role.AGGREGATOR and not commands.may_manage_plots(principal, msme):
        raise Forbidden("an MSME's plots are shown to its organisation, aggregators and admins")


@post(
    "/msmes/{msme_id:uuid}/plots", guards=[allow(*READERS, scope=Scope.CATALOG_WRITE)], responses=problem_responses(409)
)
async def register_plot(
    msme_id: FromPath[UUID],
    data: JSONBody[PlotBody],
    request: Request[Any, Any, Any],
    principal: Caller,
    ctx: Context,
) -> Response[PlotView]:
    """Register a production place of the MSME (its organisation, the aggregator that registered it, or an admin);
    an MSME holds at most 10,000 active plots (409 ``too-many-plots`` beyond)."""
    now, plot_id, spec = ctx.clock.now(), new_id(), data.spec()

    async def work(connection: Connection | None) -> tuple[int, PlotView]:
        outcome = await run_command(
            ctx.store,
            lambda unit: commands.register_plot(unit, principal, msme_id, plot_id, spec, now),
            metadata=command_metadata(request, principal),
            connection=connection,
        )
        return 201, plot_from_state(outcome.value.plot, outcome.value.version, outcome.position)

    return stored_answer(await idempotent(ctx, request, principal, work), PlotView)


@get("/msmes/{msme_id:uuid}/plots", guards=[allow(*READERS, scope=Scope.CATALOG_READ)])
async def list_plots(
    msme_id: FromPath[UUID],
    principal: Caller,
    ctx: Context,
    commodity: Commodity = None,
    status: Status = None,
    limit: Limit = 50,
    cursor: Cursor = None,
    wait_for: WaitFor = None,
) -> Page[PlotView]:
    """The MSME's plots, oldest first, by commodity and status (``active`` or ``withdrawn``) if asked."""
    await _may_read(ctx, principal, msme_id)
    await wait_for_position(ctx, wait_for)
    return await msme_plots(ctx.pool, msme_id, commodity=commodity, status=status, limit=limit, cursor=cursor)


@get("/plots/{plot_id:uuid}", guards=[allow(*READERS, scope=Scope.CATALOG_READ)])
async def get_plot(plot_id: FromPath[UUID], principal: Caller, ctx: Context, wait_for: WaitFor = None) -> PlotView:
    """One plot with its geometry, measured area and evidence."""
    await wait_for_position(ctx, wait_for)
    plot = await read_plot(ctx.pool, plot_id)
    await _may_read(ctx, principal, plot.msme_id)
    return plot


@post(
    "/plots/{plot_id:uuid}/withdraw",
    guards=[allow(*READERS, scope=Scope.CATALOG_WRITE)],
    status_code=200,
    responses=problem_responses(409),
)
async def withdraw_plot(
    plot_id: FromPath[UUID],
    data: JSONBody[WithdrawPlotBody],
    request: Request[Any, Any, Any],
    principal: Caller,
    ctx: Context,
) -> PlotView:
    """Withdraw a plot: new lots no longer come from it; lots already received keep naming it."""

    async def work(unit: UnitOfWork) -> commands.PlotOutcome:
        return await commands.withdraw_plot(unit, principal, plot_id, data.reason, ctx.clock.now())

    outcome = await run_command(ctx.store, work, metadata=command_metadata(request, principal))
    return plot_from_state(outcome.value.plot, outcome.value.version, outcome.position)


ROUTES = [register_plot, list_plots, get_plot, withdraw_plot]
