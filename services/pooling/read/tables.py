"""Pooling's read models: its own (pools, requests, proposals, capacity, unmatched demand) and what it keeps
of other services' events (MSMEs, products, certifications, quality records, confirmed order lines)."""

from __future__ import annotations

import sqlalchemy as sa

from shared.migrations import Migration, tables_ddl
from shared.published_standards import PublishedStandards

metadata = sa.MetaData(schema="pooling")
PUBLISHED_STANDARDS = PublishedStandards("pooling")
"""The standards quality has published, which pools may name."""


def _uuid(name: str, **options: object) -> sa.Column[object]:
    return sa.Column(name, sa.Uuid, **options)  # type: ignore[arg-type]


pools = sa.Table(
    "pools",
    metadata,
    _uuid("pool_id", primary_key=True),
    sa.Column("aggregator_org", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("hs_code", sa.Text, nullable=False),
    _uuid("standard_id", nullable=False),
    sa.Column("standard_version", sa.Integer, nullable=False),
    sa.Column("unit", sa.Text, nullable=False),
    sa.Column("currency", sa.Text, nullable=False),
    sa.Column("consolidation_point", sa.Text, nullable=False),
    sa.Column("required_by", sa.Date),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("demand", sa.BigInteger, nullable=False),
    sa.Column("accepted", sa.BigInteger, nullable=False),
    sa.Column("passed", sa.BigInteger, nullable=False),
    sa.Column("shipped", sa.BigInteger, nullable=False),
    sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Index("pools_matching", "aggregator_org", "hs_code", "standard_id", "standard_version", "unit", "status"),
)

allocation_requests = sa.Table(
    "allocation_requests",
    metadata,
    _uuid("request_id", primary_key=True),
    _uuid("pool_id", nullable=False),
    sa.Column("aggregator_org", sa.Text, nullable=False),
    _uuid("proposal_id", nullable=False),
    _uuid("msme_id", nullable=False),
    _uuid("product_id", nullable=False),
    sa.Column("hs_code", sa.Text, nullable=False),
    sa.Column("unit", sa.Text, nullable=False),
    sa.Column("quantity", sa.BigInteger, nullable=False),
    sa.Column("accepted", sa.BigInteger, nullable=False),
    sa.Column("plan", sa.Text, nullable=False),
    sa.Column("accepted_plan", sa.Text, nullable=False),
    sa.Column("unit_price", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("answer", sa.Text),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("answered_at", sa.DateTime(timezone=True)),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Index("allocation_requests_msme", "msme_id", "request_id"),
    sa.Index("allocation_requests_pool", "pool_id", "request_id"),
)

proposals = sa.Table(
    "proposals",
    metadata,
    _uuid("proposal_id", primary_key=True),
    _uuid("pool_id", nullable=False),
    sa.Column("aggregator_org", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("request_ids", sa.Text, nullable=False),
    sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("proposals_pool", "pool_id", "proposal_id"),
)

capacity = sa.Table(
    "capacity",
    metadata,
    _uuid("product_id", primary_key=True),
    sa.Column("month", sa.Text, primary_key=True),
    _uuid("msme_id", nullable=False),
    sa.Column("declared", sa.Integer, nullable=False),
    sa.Column("committed", sa.Integer, nullable=False),
)

unmatched_demand = sa.Table(
    "unmatched_demand",
    metadata,
    _uuid("line_id", primary_key=True),
    _uuid("order_id", nullable=False),
    sa.Column("aggregator_org", sa.Text, nullable=False),
    sa.Column("buyer_org", sa.Text, nullable=False),
    sa.Column("hs_code", sa.Text, nullable=False),
    _uuid("standard_id", nullable=False),
    sa.Column("standard_version", sa.Integer, nullable=False),
    sa.Column("unit", sa.Text, nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("required_by", sa.Date, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("unmatched_demand_aggregator", "aggregator_org", "line_id"),
)

# What pooling keeps of other services' events (written by its subscriptions).

msmes = sa.Table(
    "msmes",
    metadata,
    _uuid("msme_id", primary_key=True),
    sa.Column("org", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("province", sa.Text, nullable=False),
    sa.Column("city", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Index("msmes_org", "org"),
)

products = sa.Table(
    "products",
    metadata,
    _uuid("product_id", primary_key=True),
    _uuid("msme_id", nullable=False),
    sa.Column("sku", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("hs_code", sa.Text, nullable=False),
    sa.Column("unit", sa.Text, nullable=False),
    sa.Column("moq", sa.Integer, nullable=False),
    sa.Column("price_tiers", sa.Text, nullable=False),
    sa.Column("currency", sa.Text, nullable=False),
    sa.Column("lead_time_days", sa.Integer, nullable=False),
    sa.Column("net_mass_kg", sa.Numeric),
    sa.Index("products_spec", "hs_code", "unit"),
)

product_standards = sa.Table(
    "product_standards",
    metadata,
    _uuid("product_id", primary_key=True),
    _uuid("standard_id", primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
)

certifications = sa.Table(
    "certifications",
    metadata,
    _uuid("certification_id", primary_key=True),
    _uuid("msme_id", nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("valid_from", sa.Date, nullable=False),
    sa.Column("valid_until", sa.Date, nullable=False),
    sa.Column("number", sa.Text, nullable=False, server_default=""),
    sa.Column("scope", sa.Text),  # the CertificationScope as JSON; null covers all of the MSME's products
    sa.Index("certifications_msme", "msme_id"),
)

# The MSMEs' production places (catalog's PlotRegistered / PlotWithdrawn); ``registered`` is the whole event.
plots = sa.Table(
    "plots",
    metadata,
    _uuid("plot_id", primary_key=True),
    _uuid("msme_id", nullable=False),
    sa.Column("commodity", sa.Text, nullable=False),
    sa.Column("withdrawn", sa.Boolean, nullable=False),
    sa.Column("registered", sa.Text, nullable=False),
    sa.Index("plots_msme", "msme_id", "commodity"),
)

quality_records = sa.Table(
    "quality_records",
    metadata,
    _uuid("msme_id", primary_key=True),
    _uuid("standard_id", primary_key=True),
    sa.Column("qualified", sa.Boolean, nullable=False),
    sa.Column("disqualified", sa.Boolean, nullable=False),
    sa.Column("probation_allowed", sa.Boolean, nullable=False),
    sa.Column("severity", sa.Text, nullable=False),
    sa.Column("discontinued", sa.Boolean, nullable=False),
    sa.Column("score", sa.Float, nullable=False),
)

order_lines = sa.Table(
    "order_lines",
    metadata,
    _uuid("line_id", primary_key=True),
    _uuid("order_id", nullable=False),
    sa.Column("aggregator_org", sa.Text, nullable=False),
    sa.Column("buyer_org", sa.Text, nullable=False),
    sa.Column("hs_code", sa.Text, nullable=False),
    _uuid("standard_id", nullable=False),
    sa.Column("standard_version", sa.Integer, nullable=False),
    sa.Column("unit", sa.Text, nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("required_by", sa.Date, nullable=False),
    sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("cancelled", sa.Boolean, nullable=False),
)

# What trade documents need of orders and buyers (from OrderConfirmed and BuyerRegistered).
orders = sa.Table(
    "orders",
    metadata,
    _uuid("order_id", primary_key=True),
    sa.Column("buyer_org", sa.Text, nullable=False),
    sa.Column("aggregator_org", sa.Text, nullable=False),
    sa.Column("incoterm", sa.Text, nullable=False),
    sa.Column("destination_country", sa.Text, nullable=False),
    sa.Column("destination_port", sa.Text),
    sa.Column("loading_port", sa.Text),
    sa.Column("lines", sa.Text, nullable=False),  # the confirmed lines as JSON, with their quoted prices
)

buyers = sa.Table(
    "buyers",
    metadata,
    sa.Column("org", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("country", sa.Text, nullable=False),
)

# A pool's totals add up order lines and lots (each at most 100,000,000 units), and a request may span many
# months of an MSME's capacity, so they are bigint; one line, lot or month of capacity fits an integer.
WIDE_TOTALS = ("pools", ("demand", "accepted", "passed", "shipped")), ("allocation_requests", ("quantity", "accepted"))


def _widen_totals(schema: str) -> list[str]:
    return [
        f"ALTER TABLE {schema}.{table} " + ", ".join(f"ALTER COLUMN {column} TYPE bigint" for column in columns)
        for table, columns in WIDE_TOTALS
    ]


MIGRATIONS = [
    Migration("0001_read_models", lambda schema: tables_ddl(metadata)),
    Migration("0002_bigint_totals", _widen_totals),
    Migration(
        "0003_exports",
        lambda schema: [
            *tables_ddl(metadata),
            f"ALTER TABLE {schema}.products ADD COLUMN IF NOT EXISTS net_mass_kg numeric",
        ],
    ),
    Migration(
        "0004_certificate_scopes",
        lambda schema: [
            f"ALTER TABLE {schema}.certifications ADD COLUMN IF NOT EXISTS number text NOT NULL DEFAULT '', "
            "ADD COLUMN IF NOT EXISTS scope text",
        ],
    ),
]

OWN = [pools, allocation_requests, proposals, capacity, unmatched_demand]
