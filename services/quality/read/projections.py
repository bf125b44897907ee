"""Quality's projection: standards and their versions, inspections, each MSME's record per standard."""

from __future__ import annotations

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from events.base import Event
from events.quality import (
    FirstArticleApproved,
    FirstArticleRejected,
    InspectionOpened,
    LotAccepted,
    LotRejected,
    MsmeQualityAssessed,
    StandardCreated,
    StandardVersionDrafted,
    StandardVersionPublished,
    StandardVersionRevised,
)
from services.quality.read.tables import inspections, msme_quality, standard_versions, standards
from shared.eventstore import Connection, RecordedEvent
from shared.projection import Projection, Tables
from shared.sql import execute


def _json(value: object) -> str:
    return msgspec.json.encode(value).decode()


async def project(connection: Connection, tables: Tables, event: Event, record: RecordedEvent) -> None:
    match event:
        case StandardCreated() | StandardVersionDrafted() | StandardVersionRevised() | StandardVersionPublished():
            await _project_standard(connection, tables, event, record)
        case InspectionOpened():
            table = tables["inspections"]
            row = {
                "id": event.inspection_id,
                "kind": event.kind,
                "inspector_org": event.inspector_org,
                "status": "open",
                "msme_id": event.msme_id,
                "standard_id": event.standard_id,
                "standard_version": event.standard_version,
                "opened": _json(event),
                "opened_at": event.at,
                "version": record.stream_version,
            }
            await execute(connection, insert(table).values(**row).on_conflict_do_nothing())
        case LotAccepted() | LotRejected() | FirstArticleApproved() | FirstArticleRejected():
            table = tables["inspections"]
            status = "accepted" if isinstance(event, LotAccepted | FirstArticleApproved) else "rejected"
            await execute(
                connection,
                table.update()
                .where(table.c.id == event.inspection_id)
                .values(status=status, verdict=_json(event), decided_at=event.at, version=record.stream_version),
            )
        case MsmeQualityAssessed():
            table = tables["msme_quality"]
            values = {"assessment": _json(event), "version": record.stream_version}
            statement = insert(table).values(msme_id=event.msme_id, standard_id=event.standard_id, **values)
            await execute(
                connection,
                statement.on_conflict_do_update(
                    index_elements=["msme_id", "standard_id"],
                    set_=values,
                    where=table.c.version < record.stream_version,
                ),
            )
        case _:
            return


async def _project_standard(
    connection: Connection,
    tables: Tables,
    event: StandardCreated | StandardVersionDrafted | StandardVersionRevised | StandardVersionPublished,
    record: RecordedEvent,
) -> None:
    table, versions = tables["standards"], tables["standard_versions"]
    if isinstance(event, StandardCreated):
        row = {
            "id": event.standard_id,
            "name": event.name,
            "description": event.description,
            "owner_org": event.owner_org,
            "created_at": event.at,
            "latest_version": 0,
            "version": record.stream_version,
        }
        await execute(connection, insert(table).values(**row).on_conflict_do_nothing())
        return
    standard_id, number = event.standard_id, event.version
    match event:
        case StandardVersionDrafted():
            statement = insert(versions).values(
                standard_id=standard_id, version=number, status="draft", spec=_json(event.spec), drafted_at=event.at
            )
            await execute(connection, statement.on_conflict_do_nothing())
            changes: dict[str, object] = {"latest_version": sa.func.greatest(table.c.latest_version, number)}
        case StandardVersionRevised():
            await execute(
                connection,
                versions.update()
                .where(versions.c.standard_id == standard_id, versions.c.version == number)
                .values(spec=_json(event.spec), revised_at=event.at),
            )
            changes = {}
        case StandardVersionPublished():
            await execute(
                connection,
                versions.update()
                .where(versions.c.standard_id == standard_id, versions.c.version == number)
                .values(status="published", spec=_json(event.spec), published_at=event.at),
            )
            latest = sa.func.greatest(sa.func.coalesce(table.c.latest_published, 0), number)
            changes = {"latest_published": latest}
    await execute(
        connection,
        table.update().where(table.c.id == standard_id).values(version=record.stream_version, **changes),
    )


PROJECTION = Projection("quality", [standards, standard_versions, inspections, msme_quality], project)
