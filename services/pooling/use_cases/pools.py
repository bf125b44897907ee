"""Use cases on a pool: open it, add a confirmed order line to it, receive an MSME's lot, ship its consignment."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from uuid import UUID

import asyncpg
import sqlalchemy as sa

from events.pooling import ConsignmentShipped, PoolingEvent
from services.pooling.domain.order_demand import order_demand_stream
from services.pooling.domain.pool import POOL, pool_stream
from services.pooling.domain.pool_commands import OpenPool, ReceiveLot, Ship
from services.pooling.domain.pool_state import Pool
from services.pooling.read.tables import PUBLISHED_STANDARDS, order_lines, plots
from services.pooling.use_cases.access import load_pool, supplier_or_owner, visible_pool
from services.pooling.use_cases.supply import ConfirmedLine, add_demand
from shared.api import check_version
from shared.auth import Principal
from shared.decider import CommandOutcome, UnitOfWork, run_command
from shared.eventstore import Connection, EventStore, Metadata
from shared.kernel.errors import Conflict, FieldError, InvalidInput, NotFound
from shared.kernel.geography import city_refusal, find_place
from shared.published_standards import StandardUse
from shared.service import ServiceContext
from shared.sql import fetch, fetchrow


def consolidation_point(name_or_locode: str) -> tuple[str | None, list[FieldError]]:
    """Where a pool consolidates: a known Indonesian port (by UN/LOCODE, kept as its LOCODE) or a city (by name),
    or why it is neither."""
    place = find_place(name_or_locode)
    if place is None:
        message = "is not an Indonesian port Gotong knows (a UN/LOCODE such as IDSRG, or its name) nor a city: "
        return None, [FieldError("consolidation_point", message + city_refusal(name_or_locode))]
    return place.locode or place.name, []


async def opening(db: asyncpg.Pool, command: OpenPool) -> OpenPool:
    """The pool ``command`` would open, checked before anything is stored: its standard version is one quality
    published, and its consolidation point a port or city Gotong knows (kept as the port's LOCODE or city's name)."""
    standard = StandardUse(command.standard_id, command.standard_version, "standard_id", "standard_version")
    errors = await PUBLISHED_STANDARDS.refusals(db, [standard])
    point, refused = consolidation_point(command.consolidation_point)
    if errors or point is None:
        raise InvalidInput([*errors, *refused])
    return dataclasses.replace(command, consolidation_point=point)


async def open_pool(
    store: EventStore, command: OpenPool, *, metadata: Metadata, connection: Connection | None
) -> CommandOutcome[tuple[Pool, list[PoolingEvent]]]:
    """Open the pool ``opening`` checked."""
    return await run_command(
        store,
        lambda unit: unit.execute(POOL, pool_stream(command.pool_id), command),
        metadata=metadata,
        connection=connection,
    )


async def add_order_line(
    ctx: ServiceContext,
    principal: Principal,
    pool_id: UUID,
    order_id: UUID,
    line_id: UUID,
    *,
    expected: int | None,
    by: str,
    at: datetime,
    metadata: Metadata,
) -> CommandOutcome[tuple[Pool, int]]:
    """Add a confirmed order line quoted by the pool's aggregator; the pool at ``expected`` version, if given."""
    state, _ = await visible_pool(ctx, principal, pool_id)
    row = await fetchrow(ctx.pool, sa.select(order_lines).where(order_lines.c.line_id == line_id))
    if row is None or row["order_id"] != order_id or row["aggregator_org"] != state.aggregator_org:
        raise NotFound(f"no confirmed order line {line_id} of order {order_id} quoted by this aggregator")
    if row["cancelled"]:
        raise Conflict("the order was cancelled", problem="illegal-transition", state="cancelled")
    line = ConfirmedLine(**{f: row[f] for f in ConfirmedLine.__dataclass_fields__})

    async def work(unit: UnitOfWork) -> tuple[Pool, int]:
        await unit.load(POOL, pool_stream(pool_id))
        check_version(expected, await unit.version(pool_stream(pool_id)))
        after, _ = await add_demand(unit, pool_id, line, by=by, at=at)
        return after, await unit.version(pool_stream(pool_id))

    streams = [order_demand_stream(line.order_id), pool_stream(pool_id)]
    return await run_command(ctx.store, work, metadata=metadata, lock_streams=streams)


async def receive_lot(
    ctx: ServiceContext, principal: Principal, pool_id: UUID, command: ReceiveLot, *, metadata: Metadata
) -> CommandOutcome[tuple[Pool, list[PoolingEvent]]]:
    """Record an MSME's lot: by the pool's aggregator or a user of an MSME supplying the pool (else 404)."""
    state, _ = await load_pool(ctx, pool_id)
    if not state.exists:
        raise NotFound(f"no pool {pool_id}")
    await supplier_or_owner(ctx, principal, state, command.msme_id)
    held = await fetch(
        ctx.pool,
        sa.select(plots.c.plot_id, plots.c.commodity)
        .where(plots.c.msme_id == command.msme_id, sa.not_(plots.c.withdrawn))
        .order_by(plots.c.plot_id),
    )
    command = dataclasses.replace(command, msme_plots=tuple((r["plot_id"], r["commodity"]) for r in held))
    return await run_command(
        ctx.store,
        lambda unit: unit.execute(POOL, pool_stream(pool_id), command),
        metadata=metadata,
        lock_streams=[pool_stream(pool_id)],
    )


async def ship(
    ctx: ServiceContext, principal: Principal, pool_id: UUID, command: Ship, *, expected: int | None, metadata: Metadata
) -> CommandOutcome[tuple[Pool, ConsignmentShipped]]:
    """Ship every lot of the pool that passed inspection and is not shipped yet; the pool at ``expected``."""
    await visible_pool(ctx, principal, pool_id)

    async def work(unit: UnitOfWork) -> tuple[Pool, ConsignmentShipped]:
        await unit.load(POOL, pool_stream(pool_id))
        check_version(expected, await unit.version(pool_stream(pool_id)))
        after, events = await unit.execute(POOL, pool_stream(pool_id), command)
        (shipped,) = [e for e in events if isinstance(e, ConsignmentShipped)]
        return after, shipped

    return await run_command(ctx.store, work, metadata=metadata, lock_streams=[pool_stream(pool_id)])
