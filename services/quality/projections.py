"""Quality's read models: standards and their versions, inspections, each MSME's record per standard.

``msme_owners`` (MSME → owning organisation) is fed by catalog's events through a subscription, not by
this service's projection, so a rebuild of the projections leaves it alone.
"""

from __future__ import annotations

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID, insert

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
from shared.eventstore import Connection, RecordedEvent
from shared.migrations import Migration, tables_ddl
from shared.projection import Projection, Tables
from shared.sql import execute

metadata = sa.MetaData(schema="quality")

standards = sa.Table(
    "standards",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("owner_org", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("latest_version", sa.Integer, nullable=False),
    sa.Column("latest_published", sa.Integer),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Index("standards_by_creation", "created_at", "id"),
)

standard_versions = sa.Table(
    "standard_versions",
    metadata,
    sa.Column("standard_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("spec", JSONB, nullable=False),
    sa.Column("drafted_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revised_at", sa.DateTime(timezone=True)),
    sa.Column("published_at", sa.DateTime(timezone=True)),
)

inspections = sa.Table(
    "inspections",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("inspector_org", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("msme_id", UUID(as_uuid=True), nullable=False),
    sa.Column("standard_id", UUID(as_uuid=True), nullable=False),
    sa.Column("standard_version", sa.Integer, nullable=False),
    sa.Column("opened", JSONB, nullable=False),
    sa.Column("verdict", JSONB),
    sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("decided_at", sa.DateTime(timezone=True)),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Index("inspections_by_org", "inspector_org", "id"),
    sa.Index("inspections_by_msme", "msme_id", "id"),
)

msme_quality = sa.Table(
    "msme_quality",
    metadata,
    sa.Column("msme_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("standard_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("assessment", JSONB, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
)

msme_owners = sa.Table(
    "msme_owners",
    metadata,
    sa.Column("msme_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("org", sa.Text, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

MIGRATIONS = [
    Migration("0001_read_models", lambda schema: tables_ddl(metadata)),
    Migration(
        "0002_lot_inspections",
        lambda schema: [
            f"CREATE INDEX IF NOT EXISTS events_lot_inspections ON {schema}.events ((data->>'lot_id'))"
            " WHERE event_type = 'InspectionOpened'"
        ],
    ),
]


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
