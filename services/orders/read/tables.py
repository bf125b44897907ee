"""Orders' tables: its read models, and what it keeps of other services' events (the supply behind each order
line and what touched the order).

Written by orders' subscriptions (``services.orders.handlers``) in the inbox transaction of each event, so
each event counts once. Catalog gives MSMEs, certifications and products (with origin plots); pooling gives
requests, lots and consignments with the order lines they serve; quality gives lot verdicts with their plans.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from shared.migrations import Migration, tables_ddl
from shared.published_standards import PublishedStandards

read_models = sa.MetaData(schema="orders")
"""Orders' own read models, fed by its projection."""

buyers = sa.Table(
    "buyers",
    read_models,
    sa.Column("org", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("country", sa.Text, nullable=False),
    sa.Column("contacts", JSONB, nullable=False),
    sa.Column("users", JSONB, nullable=False),
    sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
)

orders = sa.Table(
    "orders",
    read_models,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("buyer_org", sa.Text, nullable=False),
    sa.Column("aggregator_org", sa.Text),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("required_by", sa.Date, nullable=False),
    sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("document", JSONB, nullable=False),
    sa.Index("orders_by_buyer", "buyer_org", "id"),
    sa.Index("orders_by_aggregator", "aggregator_org", "id"),
    sa.Index("orders_by_state", "state", "id"),
)
"""One row per order; ``document`` is the order's full state, ``buyer_org``/``aggregator_org`` the ownership map."""

order_lines_progress = sa.Table(
    "order_lines_progress",
    read_models,
    sa.Column("order_id", sa.Uuid, primary_key=True),
    sa.Column("line_id", sa.Uuid, primary_key=True),
    sa.Column("allocated", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("accepted", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("delivered", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("passed", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("shipped", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("updated_at", sa.DateTime(timezone=True)),
    sa.Column("accepted_since", sa.DateTime(timezone=True)),
    sa.Column("passed_since", sa.DateTime(timezone=True)),
    sa.Column("shipped_since", sa.DateTime(timezone=True)),
)
"""Per-line progress, fed by pooling's and quality's events (see ``services.orders.read.progress``).

``<measure>_since`` is when the measure last reached the line's demand (null while below it), by the time of
the pool's event, so an order's milestones are dated by its lines' own times, not by when orders heard of them.
"""


MIGRATIONS = [
    Migration("0001_read_models", lambda schema: tables_ddl(read_models)),
]
LINE_COVERAGE_TIMES = Migration(
    "0005_line_coverage_times",
    lambda schema: [
        f"ALTER TABLE {order_lines_progress.schema}.order_lines_progress "
        f"ADD COLUMN IF NOT EXISTS {measure}_since timestamptz"
        for measure in ("accepted", "passed", "shipped")
    ],
)

kept_from_others = sa.MetaData(schema="orders")
"""What orders keeps of other services' events, fed by its subscriptions."""
PUBLISHED_STANDARDS = PublishedStandards("orders")
"""The standards quality has published, which order lines may name."""

line_requests = sa.Table(
    "line_requests",
    kept_from_others,
    sa.Column("request_id", sa.Uuid, primary_key=True),
    sa.Column("line_id", sa.Uuid, primary_key=True),
    sa.Column("order_id", sa.Uuid, nullable=False),
    sa.Column("quantity", sa.BigInteger, nullable=False),
    sa.Index("line_requests_by_line", "order_id", "line_id"),
)
"""Units of an order line asked of MSMEs in requests not answered yet (allocated = accepted + these)."""

msmes = sa.Table(
    "msmes",
    kept_from_others,
    sa.Column("msme_id", sa.Uuid, primary_key=True),
    sa.Column("org", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("nib", sa.Text, nullable=False),
    sa.Column("province", sa.Text, nullable=False),
    sa.Column("city", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False, server_default="0"),
)
"""``version`` is that of the MSME's stream the row was last written from: catalog's events reach orders in the
order they come, not their stream's (``services.orders.handlers.CATALOG_MIRROR``), and an older one must not
overwrite a newer one's values."""

certifications = sa.Table(
    "certifications",
    kept_from_others,
    sa.Column("certification_id", sa.Uuid, primary_key=True),
    sa.Column("msme_id", sa.Uuid, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("number", sa.Text, nullable=False),
    sa.Column("issuer", sa.Text, nullable=False),
    sa.Column("valid_from", sa.Date, nullable=False),
    sa.Column("valid_until", sa.Date, nullable=False),
    sa.Index("certifications_by_msme", "msme_id"),
)

product_versions = sa.Table(
    "product_versions",
    kept_from_others,
    sa.Column("product_id", sa.Uuid, primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("msme_id", sa.Uuid, nullable=False),
    sa.Column("sku", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("hs_code", sa.Text, nullable=False),
    sa.Column("eudr_commodity", sa.Text),
    sa.Column("origin_plots", JSONB, nullable=False),
    sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
)
"""Each listing or update of a product, so a lot shows the product as it was described when it arrived."""

lots = sa.Table(
    "lots",
    kept_from_others,
    sa.Column("lot_id", sa.Uuid, primary_key=True),
    sa.Column("pool_id", sa.Uuid, nullable=False),
    sa.Column("msme_id", sa.Uuid, nullable=False),
    sa.Column("product_id", sa.Uuid, nullable=False),
    sa.Column("lot_code", sa.Text, nullable=False),
    sa.Column("quantity", sa.BigInteger, nullable=False),
    sa.Column("unit", sa.Text, nullable=False),
    sa.Column("standard_id", sa.Uuid, nullable=False),
    sa.Column("standard_version", sa.Integer, nullable=False),
    sa.Column("delivered_on", sa.Date, nullable=False),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("consignment_id", sa.Uuid),
    # The inspection whose verdict the pool acted on (it trusts the inspector's organisation).
    sa.Column("decided_by", sa.Uuid),
)

lot_lines = sa.Table(
    "lot_lines",
    kept_from_others,
    sa.Column("lot_id", sa.Uuid, primary_key=True),
    sa.Column("line_id", sa.Uuid, primary_key=True),
    sa.Column("order_id", sa.Uuid, nullable=False),
    sa.Column("quantity", sa.BigInteger, nullable=False),
    sa.Index("lot_lines_by_order", "order_id", "line_id"),
)
"""Which order lines a lot's units were delivered for (as pooling assigned them when it arrived)."""

consignments = sa.Table(
    "consignments",
    kept_from_others,
    sa.Column("consignment_id", sa.Uuid, primary_key=True),
    sa.Column("pool_id", sa.Uuid, nullable=False),
    sa.Column("aggregator_org", sa.Text, nullable=False),
    sa.Column("quantity", sa.BigInteger, nullable=False),
    sa.Column("partial", sa.Boolean, nullable=False),
    sa.Column("consent_reference", sa.Text),
    sa.Column("shipped_by", sa.Text, nullable=False),
    sa.Column("shipped_at", sa.DateTime(timezone=True), nullable=False),
)

lot_inspections = sa.Table(
    "lot_inspections",
    kept_from_others,
    sa.Column("inspection_id", sa.Uuid, primary_key=True),
    sa.Column("event_id", sa.Uuid, nullable=False),
    sa.Column("lot_id", sa.Uuid, nullable=False),
    sa.Column("pool_id", sa.Uuid, nullable=False),
    sa.Column("msme_id", sa.Uuid, nullable=False),
    sa.Column("standard_id", sa.Uuid, nullable=False),
    sa.Column("standard_version", sa.Integer, nullable=False),
    sa.Column("accepted", sa.Boolean, nullable=False),
    sa.Column("lot_size", sa.BigInteger, nullable=False),
    sa.Column("resubmitted", sa.Boolean, nullable=False),
    sa.Column("severity", sa.Text, nullable=False),
    sa.Column("plans", JSONB, nullable=False),
    sa.Column("verdicts", JSONB, nullable=False),
    sa.Column("reasons", JSONB, nullable=False),
    sa.Column("inspector_org", sa.Text, nullable=False),
    sa.Column("recorded_by", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.Text),
    sa.Index("lot_inspections_by_lot", "lot_id"),
)
"""Quality's verdicts on lots, with the sampling plan of each defect class."""

order_timeline = sa.Table(
    "order_timeline",
    kept_from_others,
    sa.Column("order_id", sa.Uuid, primary_key=True),
    sa.Column("event_id", sa.Uuid, primary_key=True),
    sa.Column("service", sa.Text, nullable=False),
    sa.Column("event_type", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.Text),
    sa.Column("summary", sa.Text),
    sa.Column("schema_version", sa.Integer),
    sa.Column("data", JSONB),
    sa.Index("order_timeline_by_time", "order_id", "at", "recorded_at"),
)
"""Pooling's events that touched an order, for its history. ``data`` is the event, told in words when the
history is read, with the MSME names and lot codes known then, so the words do not depend on whether catalog's
or pooling's event arrived first; ``summary`` holds the words of rows kept before events were (no ``data``).
Quality's verdicts are not kept here: the history reads them from ``lot_inspections`` through ``lot_lines``."""

FLOW_MIGRATION = Migration("0002_flow_read_models", lambda schema: tables_ddl(kept_from_others))
LOT_DECIDED_BY = Migration(
    "0003_lot_decided_by", lambda schema: [f"ALTER TABLE {lots.schema}.lots ADD COLUMN IF NOT EXISTS decided_by uuid"]
)
MSME_VERSIONS = Migration(
    "0006_msme_versions",
    lambda schema: [
        f"ALTER TABLE {msmes.schema}.msmes ADD COLUMN IF NOT EXISTS version integer NOT NULL DEFAULT 0",
        # the catalog mirror is not held to its streams' order any more: the progress it kept is dropped
        f"DELETE FROM {schema}.stream_progress WHERE consumer = 'catalog'",
    ],
)
TIMELINE_TOLD_WHEN_READ = Migration(
    "0004_timeline_told_when_read",
    lambda schema: [
        f"ALTER TABLE {order_timeline.schema}.order_timeline ADD COLUMN IF NOT EXISTS schema_version integer",
        f"ALTER TABLE {order_timeline.schema}.order_timeline ADD COLUMN IF NOT EXISTS data jsonb",
        f"ALTER TABLE {order_timeline.schema}.order_timeline ALTER COLUMN summary DROP NOT NULL",
        # Verdicts are read from lot_inspections now; the rows told of them when they arrived would repeat them.
        f"DELETE FROM {order_timeline.schema}.order_timeline WHERE service = 'quality'",
    ],
)
