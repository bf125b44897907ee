"""The catalog's read models: MSME profiles, certifications, searchable products and monthly capacity.

``products`` denormalises its MSME's name, province, city and status so a search needs no join; its
``search`` column (name, category, SKU, MSME name, description) is a generated ``tsvector`` with a GIN index,
and generated HS chapter/heading/subheading columns turn HS-prefix searches into equality on a b-tree.
``capacity`` holds declared units (from CapacityDeclared) and committed units (from pooling's events, via
``commitments``, which the pooling subscription owns and a rebuild of this projection reads back).
"""

from __future__ import annotations

from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR, insert

from events.base import Event
from events.catalog import (
    CapacityDeclared,
    CertificationAdded,
    MsmeRegistered,
    MsmeUpdated,
    ProductListed,
    ProductUpdated,
    SkuClaimed,
    SkuReleased,
    StandardRef,
)
from shared.eventstore import Connection, RecordedEvent
from shared.migrations import Migration, tables_ddl
from shared.projection import Projection, Tables
from shared.sql import execute, fetchrow

metadata = sa.MetaData(schema="catalog")

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
    sa.Index("certifications_holder", "msme_id", "key", "valid_until", "valid_from"),
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
    # The certification keys its MSME holds or held; a search checks their dates in ``certifications``.
    sa.Column("certification_keys", ARRAY(sa.Text), nullable=False),
    sa.Column("standard_refs", JSONB, nullable=False),
    sa.Column("origin_plots", JSONB, nullable=False),
    sa.Column("eudr_commodity", sa.Text),
    sa.Column("listed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("search", TSVECTOR, sa.Computed(_SEARCH_TEXT, persisted=True)),
    # HS chapter, heading and subheading, so a prefix search walks an index in product order.
    sa.Column("hs_chapter", sa.Text, sa.Computed("left(hs_code, 2)", persisted=True)),
    sa.Column("hs_heading", sa.Text, sa.Computed("left(hs_code, 4)", persisted=True)),
    sa.Column("hs_subheading", sa.Text, sa.Computed("left(hs_code, 6)", persisted=True)),
    # Every index ends with id: equality filters then read matches already in the order pages are cut in.
    sa.Index("products_category", "category", "id"),
    sa.Index("products_category_province", "category", "province", "id"),
    sa.Index("products_province_city", "province", "city", "id"),
    sa.Index("products_hs_chapter", "hs_chapter", "id"),
    sa.Index("products_hs_heading", "hs_heading", "id"),
    sa.Index("products_hs_subheading", "hs_subheading", "id"),
    sa.Index("products_msme", "msme_id", "id"),
    sa.Index("products_search", "search", postgresql_using="gin"),
    sa.Index("products_standards", "standards", postgresql_using="gin"),
    sa.Index("products_certification_keys", "certification_keys", postgresql_using="gin"),
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


def _json(value: Any) -> str:
    return msgspec.json.encode(value).decode()


def certification_key(kind: str, name: str) -> str:
    """How a search names a certification: its kind (``halal``), or ``other:<name>`` for other schemes."""
    return f"other:{name.strip().lower()}" if kind == "other" else kind


def standard_keys(standards: list[StandardRef]) -> list[str]:
    """Array entries a search filters on: ``<standard_id>`` (any version) and ``<standard_id>@<version>``."""
    keys: list[str] = []
    for standard in standards:
        keys += [str(standard.standard_id), f"{standard.standard_id}@{standard.version}"]
    return keys


def _product_values(event: ProductListed | ProductUpdated, record: RecordedEvent) -> dict[str, Any]:
    return {
        "sku": event.sku,
        "name": event.name,
        "description": event.description,
        "hs_code": event.hs_code,
        "category": event.category,
        "unit": event.unit,
        "moq": event.moq,
        "price_tiers": _json(event.price_tiers),
        "currency": event.currency,
        "lead_time_days": event.lead_time_days,
        "standards": standard_keys(event.standards),
        "standard_refs": _json(event.standards),
        "origin_plots": _json(event.origin_plots),
        "eudr_commodity": event.eudr_commodity,
        "updated_at": event.at,
        "version": record.stream_version,
    }


async def _apply_msme(connection: Connection, tables: Tables, event: Event, record: RecordedEvent) -> None:
    table, listed = tables["msmes"], tables["products"]
    match event:
        case MsmeRegistered():
            values = {
                "id": event.msme_id,
                "org": event.org,
                "name": event.name,
                "nib": event.nib,
                "province": event.province,
                "city": event.city,
                "contact": _json(event.contact),
                "size_class": event.size_class,
                "status": event.status,
                "registered_by": event.registered_by,
                "registered_at": event.at,
                "updated_at": event.at,
                "version": record.stream_version,
            }
            await execute(connection, insert(table).values(**values).on_conflict_do_nothing())
        case MsmeUpdated():
            profile = {"name": event.name, "province": event.province, "city": event.city}
            await execute(
                connection,
                table.update()
                .where(table.c.id == event.msme_id)
                .values(
                    **profile,
                    contact=_json(event.contact),
                    size_class=event.size_class,
                    status=event.status,
                    updated_at=event.at,
                    version=record.stream_version,
                ),
            )
            await execute(
                connection,
                listed.update()
                .where(listed.c.msme_id == event.msme_id)
                .values(msme_name=event.name, province=event.province, city=event.city, msme_status=event.status),
            )
        case CertificationAdded():
            held, key = tables["certifications"], certification_key(event.kind, event.name)
            values = {
                "id": event.certification_id,
                "msme_id": event.msme_id,
                "kind": event.kind,
                "key": key,
                "name": event.name,
                "number": event.number,
                "issuer": event.issuer,
                "valid_from": event.valid_from,
                "valid_until": event.valid_until,
                "added_at": event.at,
            }
            await execute(connection, insert(held).values(**values).on_conflict_do_nothing())
            keys = listed.c.certification_keys
            await execute(
                connection,
                listed.update()
                .where(listed.c.msme_id == event.msme_id, sa.not_(keys.contains([key])))
                .values(certification_keys=sa.func.array_append(keys, key)),
            )
            await _bump(connection, table, event.msme_id, record)
        case SkuClaimed() | SkuReleased():
            await _bump(connection, table, event.msme_id, record)


async def _bump(connection: Connection, table: sa.Table, row_id: Any, record: RecordedEvent) -> None:
    """Keep the row's version equal to its stream's, so ``If-Match`` works against what a GET shows."""
    await execute(connection, table.update().where(table.c.id == row_id).values(version=record.stream_version))


async def _apply_product(connection: Connection, tables: Tables, event: Event, record: RecordedEvent) -> None:
    table = tables["products"]
    match event:
        case ProductListed():
            owner = tables["msmes"]
            row = await fetchrow(
                connection,
                sa.select(owner.c.name, owner.c.status, owner.c.province, owner.c.city).where(
                    owner.c.id == event.msme_id
                ),
            )
            held = tables["certifications"]
            keys = sa.select(sa.func.array_agg(sa.distinct(held.c.key))).where(held.c.msme_id == event.msme_id)
            # The MSME's registration always precedes its products in the global order.
            msme = dict(row) if row is not None else {"name": "", "status": "active", "province": "", "city": ""}
            values = {
                "id": event.product_id,
                "msme_id": event.msme_id,
                "org": event.org,
                "msme_name": msme["name"],
                "msme_status": msme["status"],
                "province": msme["province"],
                "city": msme["city"],
                "listed_at": event.at,
                "certification_keys": sa.func.coalesce(keys.scalar_subquery(), sa.cast(sa.literal([]), ARRAY(sa.Text))),
                **_product_values(event, record),
            }
            await execute(connection, insert(table).values(**values).on_conflict_do_nothing())
        case ProductUpdated():
            await execute(
                connection,
                table.update().where(table.c.id == event.product_id).values(**_product_values(event, record)),
            )
        case CapacityDeclared():
            months, booked = tables["capacity"], commitments
            committed = (
                sa.select(booked.c.committed)
                .where(booked.c.product_id == event.product_id, booked.c.month == event.month)
                .scalar_subquery()
            )
            statement = insert(months).values(
                product_id=event.product_id,
                month=event.month,
                declared=event.units,
                committed=sa.func.coalesce(committed, 0),
            )
            await execute(
                connection,
                statement.on_conflict_do_update(
                    index_elements=[months.c.product_id, months.c.month], set_={"declared": event.units}
                ),
            )
            await _bump(connection, table, event.product_id, record)


async def project(connection: Connection, tables: Tables, event: Event, record: RecordedEvent) -> None:
    if record.stream_type == "msme":
        await _apply_msme(connection, tables, event, record)
    elif record.stream_type == "product":
        await _apply_product(connection, tables, event, record)


CATALOG = Projection("catalog", [msmes, certifications, products, capacity], project)

MIGRATIONS = [Migration("0001_read_models", lambda schema: tables_ddl(metadata))]
