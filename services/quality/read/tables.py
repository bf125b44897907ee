"""Quality's tables: the read models (standards and their versions, inspections, each MSME's record per
standard, MSME owners) and their migrations.

``msme_owners`` (MSME → owning organisation) is fed by catalog's events through a subscription, not by
this service's projection, so a rebuild of the projections leaves it alone.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

from shared.migrations import Migration, tables_ddl

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
    sa.Column("version", sa.Integer, nullable=False, server_default="0"),
)
"""``version`` is that of the MSME's stream the row was last written from: catalog's events reach quality in the
order they come, not their stream's, and an older one must not overwrite a newer one's owner."""

MIGRATIONS = [
    Migration("0001_read_models", lambda schema: tables_ddl(metadata)),
    Migration(
        "0002_lot_inspections",
        lambda schema: [
            f"CREATE INDEX IF NOT EXISTS events_lot_inspections ON {schema}.events ((data->>'lot_id'))"
            " WHERE event_type = 'InspectionOpened'"
        ],
    ),
    Migration(
        "0003_msme_owner_versions",
        lambda schema: [
            f"ALTER TABLE {schema}.msme_owners ADD COLUMN IF NOT EXISTS version integer NOT NULL DEFAULT 0",
            # the owners' mirror is not held to its streams' order any more: the progress it kept is dropped
            f"DELETE FROM {schema}.stream_progress WHERE consumer = 'msme-owners'",
        ],
    ),
]
