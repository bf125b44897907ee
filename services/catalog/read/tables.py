"""The catalog's read-model tables: MSME profiles, certifications, searchable products and monthly capacity.

``products`` denormalises its MSME's name, province, city and status so a search needs no join; its
``search`` column (name, category, SKU, MSME name, description) is a generated ``tsvector`` and the HS
chapter, heading and subheading are generated columns.
Posting tables list products in id order under what a search filters on, so a search reads matches in the
order it pages in and stops after a page (see ``postings``): ``product_postings`` (word prefixes of
``search``, category, province, city, HS levels, standards) and ``product_certifications`` (the days each
product's MSME holds each kind of certification).
``plots`` holds MSMEs' production places (the ``PLOTS`` projection of plot streams).
``capacity`` holds declared units (from CapacityDeclared) and committed units (from pooling's events, via
``commitments``, which the pooling subscription owns and a rebuild of this projection reads back).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, DATEMULTIRANGE, JSONB, TSVECTOR

from services.catalog.read.postings import backfill_sql, word_backfill_sql
from shared.migrations import Migration, tables_ddl
from shared.projection import Tables
from shared.published_standards import PublishedStandards

metadata = sa.MetaData(schema="catalog")
PUBLISHED_STANDARDS = PublishedStandards("catalog")
"""The standards quality has published, which products may name."""

msmes = sa.Table(
    "msmes",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("org", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("nib", sa.Text, nullable=False),
    sa.Column("province", sa.Text, nullable=False),
    sa.Column("city", sa.Text, nullable=False),
    sa.Column("contact", JSONB, nullable=False),
    sa.Column("size_class", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("registered_by", sa.Text, nullable=False),
    sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Index("msmes_org", "org"),
    sa.Index("msmes_registered_by", "registered_by", "id"),
    sa.Index("msmes_province", "province", "city", "id"),
)

certifications = sa.Table(
    "certifications",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("msme_id", sa.Uuid, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("key", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("number", sa.Text, nullable=False),
    sa.Column("issuer", sa.Text, nullable=False),
    sa.Column("valid_from", sa.Date, nullable=False),
    sa.Column("valid_until", sa.Date, nullable=False),
    sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
    # The products it covers (by id, or HS-code prefix); both null when it covers all of the MSME's products.
    sa.Column("scope_product_ids", ARRAY(sa.Uuid)),
    sa.Column("scope_hs_prefixes", ARRAY(sa.Text)),
    sa.Index("certifications_holder", "msme_id", "key", "valid_until", "valid_from"),
    sa.Index("certifications_key", "key", "valid_until", "valid_from", "msme_id"),
)

_SEARCH_TEXT = (
    "setweight(to_tsvector('simple'::regconfig, name), 'A')"
    " || setweight(to_tsvector('simple'::regconfig, category || ' ' || sku || ' ' || msme_name), 'B')"
    " || setweight(to_tsvector('simple'::regconfig, description), 'C')"
)

products = sa.Table(
    "products",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("msme_id", sa.Uuid, nullable=False),
    sa.Column("org", sa.Text, nullable=False),
    sa.Column("msme_name", sa.Text, nullable=False),
    sa.Column("msme_status", sa.Text, nullable=False),
    sa.Column("province", sa.Text, nullable=False),
    sa.Column("city", sa.Text, nullable=False),
    sa.Column("sku", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("hs_code", sa.Text, nullable=False),
    sa.Column("category", sa.Text, nullable=False),
    sa.Column("unit", sa.Text, nullable=False),
    sa.Column("moq", sa.Integer, nullable=False),
    sa.Column("price_tiers", JSONB, nullable=False),
    sa.Column("currency", sa.Text, nullable=False),
    sa.Column("lead_time_days", sa.Integer, nullable=False),
    sa.Column("standards", ARRAY(sa.Text), nullable=False),
    sa.Column("standard_refs", JSONB, nullable=False),
    sa.Column("origin_plots", JSONB, nullable=False),
    sa.Column("eudr_commodity", sa.Text),
    sa.Column("net_mass_kg", sa.Numeric),
    sa.Column("listed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("search", TSVECTOR, sa.Computed(_SEARCH_TEXT, persisted=True)),
    # HS chapter, heading and subheading: an HS-prefix search reads the list of the longest its prefix covers.
    sa.Column("hs_chapter", sa.Text, sa.Computed("left(hs_code, 2)", persisted=True)),
    sa.Column("hs_heading", sa.Text, sa.Computed("left(hs_code, 4)", persisted=True)),
    sa.Column("hs_subheading", sa.Text, sa.Computed("left(hs_code, 6)", persisted=True)),
    # Searches read the posting lists (``product_postings``); a product's MSME and its id order have indexes.
    sa.Index("products_msme", "msme_id", "id"),
)

# Keys are read by equality and the lengths of their lists vary widely, so the planner keeps many of them in
# its statistics: a search then knows how many products each list holds.
product_postings = sa.Table(
    "product_postings",
    metadata,
    sa.Column("key", sa.Text, primary_key=True, info={"statistics": 1_000}),
    sa.Column("product_id", sa.Uuid, primary_key=True),
)

# One row per product and certification kind: the days any of its MSME's certifications of that kind cover.
product_certifications = sa.Table(
    "product_certifications",
    metadata,
    sa.Column("key", sa.Text, nullable=False),
    sa.Column("product_id", sa.Uuid, nullable=False),
    sa.Column("valid", DATEMULTIRANGE, nullable=False),
    sa.PrimaryKeyConstraint("product_id", "key"),
)

capacity = sa.Table(
    "capacity",
    metadata,
    sa.Column("product_id", sa.Uuid, primary_key=True),
    sa.Column("month", sa.Text, primary_key=True),
    sa.Column("declared", sa.Integer, nullable=False),
    sa.Column("committed", sa.Integer, nullable=False),
    sa.Index("capacity_month", "month", "product_id"),
)

# Written by the pooling subscription only, so committed units survive a rebuild of the projection.
commitments = sa.Table(
    "commitments",
    metadata,
    sa.Column("product_id", sa.Uuid, primary_key=True),
    sa.Column("month", sa.Text, primary_key=True),
    sa.Column("committed", sa.Integer, nullable=False),
)


# An MSME's production places: one row per plot, its whole description as the last event left it.
plots = sa.Table(
    "plots",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("msme_id", sa.Uuid, nullable=False),
    sa.Column("org", sa.Text, nullable=False),
    sa.Column("commodity", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("body", JSONB, nullable=False),
    sa.Column("withdrawn_reason", sa.Text),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Index("plots_msme", "msme_id", "id"),
)


def _live() -> Tables:
    return Tables({table.name: table for table in metadata.sorted_tables})


def _posting_lists(schema: str) -> list[str]:
    """Posting lists replace the indexes searches used to read on ``products``."""
    live = _live()
    replaced = ("search", "certification_keys", "standards", "category", "category_province", "province_city",
                "hs_chapter", "hs_heading", "hs_subheading")  # fmt: skip
    return [
        *tables_ddl(metadata),
        *(f"DROP INDEX IF EXISTS catalog.products_{name}" for name in replaced),
        *backfill_sql(live),
        "ALTER TABLE catalog.products DROP COLUMN IF EXISTS certification_keys",
    ]


MIGRATIONS = [
    Migration("0001_read_models", lambda schema: tables_ddl(metadata)),
    Migration("0002_posting_lists", _posting_lists),
    PUBLISHED_STANDARDS.migration,
    Migration(
        "0003_plots_unit_mass_and_msme_listing",
        lambda schema: [
            *tables_ddl(metadata),
            f"ALTER TABLE {schema}.products ADD COLUMN IF NOT EXISTS net_mass_kg numeric",
        ],
    ),
    Migration(
        "0004_certification_scopes",
        lambda schema: [
            f"ALTER TABLE {schema}.certifications ADD COLUMN IF NOT EXISTS scope_product_ids uuid[], "
            "ADD COLUMN IF NOT EXISTS scope_hs_prefixes text[]",
        ],
    ),
    # Words are filed under their first four characters too (``postings.PREFIXES``).
    Migration("0005_four_character_word_lists", lambda schema: word_backfill_sql(_live())),
]
