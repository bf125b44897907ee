"""MSMEs' production places: the ``PLOTS`` projection of plot streams, its reads and what the API shows."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

import asyncpg
import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from events.base import Event, event_names
from events.catalog import (
    DeforestationFreeEvidence,
    HarvestPeriod,
    PlotGeometry,
    PlotRegistered,
    PlotWithdrawn,
    TreeSpecies,
)
from services.catalog.domain.plot import Plot
from services.catalog.read.tables import plots
from shared.eventstore import Connection, RecordedEvent
from shared.kernel.errors import NotFound
from shared.pages import BY_ID, Page
from shared.projection import Projection, Tables
from shared.sql import execute, fetch, fetchrow

PlotStatus = Literal["active", "withdrawn"]


class PlotView(msgspec.Struct, frozen=True, kw_only=True):
    """A production place; ``deforestation_free`` tells whether it carries evidence dated after the cut-off."""

    id: UUID
    msme_id: UUID
    org: str
    name: str
    geometry: PlotGeometry
    area_hectares: Decimal
    area_source: str
    country: str
    region: str
    commodity: str
    harvest: HarvestPeriod | None
    evidence: DeforestationFreeEvidence | None
    species: list[TreeSpecies]
    deforestation_free: bool
    status: PlotStatus
    withdrawn_reason: str | None
    registered_by: str
    registered_at: datetime
    version: int
    position: int = 0


_registered = msgspec.json.Decoder(PlotRegistered)


def plot_view(registered: PlotRegistered, *, status: PlotStatus, reason: str | None, version: int) -> PlotView:
    return PlotView(
        id=registered.plot_id,
        msme_id=registered.msme_id,
        org=registered.org,
        name=registered.name,
        geometry=registered.geometry,
        area_hectares=registered.area_hectares,
        area_source=registered.area_source,
        country=registered.country,
        region=registered.region,
        commodity=registered.commodity,
        harvest=registered.harvest,
        evidence=registered.evidence,
        species=registered.species,
        deforestation_free=registered.evidence is not None,
        status=status,
        withdrawn_reason=reason,
        registered_by=registered.registered_by,
        registered_at=registered.at,
        version=version,
    )


def plot_from_state(plot: Plot, version: int, position: int) -> PlotView:
    assert plot.registered is not None
    status: PlotStatus = "withdrawn" if plot.withdrawn else "active"
    view = plot_view(plot.registered, status=status, reason=None, version=version)
    return msgspec.structs.replace(view, position=position)


def _from_row(row: Mapping[str, Any]) -> PlotView:
    registered = _registered.decode(row["body"])
    return plot_view(registered, status=row["status"], reason=row["withdrawn_reason"], version=row["version"])


async def project(connection: Connection, tables: Tables, event: Event, record: RecordedEvent) -> None:
    table = tables["plots"]
    match event:
        case PlotRegistered():
            values = {
                "id": event.plot_id,
                "msme_id": event.msme_id,
                "org": event.org,
                "commodity": event.commodity,
                "status": "active",
                "body": msgspec.json.encode(event).decode(),
                "version": record.stream_version,
            }
            await execute(connection, insert(table).values(**values).on_conflict_do_nothing())
        case PlotWithdrawn():
            withdrawn = {"status": "withdrawn", "withdrawn_reason": event.reason, "version": record.stream_version}
            await execute(connection, table.update().where(table.c.id == event.plot_id).values(**withdrawn))


PLOTS = Projection("plots", [plots], project, takes=event_names(PlotRegistered, PlotWithdrawn))


async def read_plot(pool: asyncpg.Pool, plot_id: UUID) -> PlotView:
    row = await fetchrow(pool, sa.select(plots).where(plots.c.id == plot_id))
    if row is None:
        raise NotFound(f"no plot {plot_id}")
    return _from_row(row)


async def msme_plots(
    pool: asyncpg.Pool,
    msme_id: UUID,
    *,
    commodity: str | None,
    status: PlotStatus | None,
    limit: int,
    cursor: str | None,
) -> Page[PlotView]:
    """The MSME's plots in id (registration) order, filtered by commodity and status."""
    after = BY_ID.decode(cursor)
    query = sa.select(plots).where(plots.c.msme_id == msme_id)
    if commodity is not None:
        query = query.where(plots.c.commodity == commodity)
    if status is not None:
        query = query.where(plots.c.status == status)
    if after is not None:
        query = query.where(plots.c.id > after[0])
    rows = await fetch(pool, query.order_by(plots.c.id).limit(limit + 1))
    return BY_ID.page(rows, limit, _from_row, lambda plot: (plot.id,))
