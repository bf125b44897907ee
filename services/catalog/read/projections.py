"""The catalog projection: how each catalog event changes the read-model tables (see ``tables``).

It writes through the ``Tables`` it is given (the live tables, or a rebuild's copies); ``commitments``
belongs to the pooling subscription, so a rebuild reads committed units back from it. The projector applies a
batch with ``project_many``, which must leave the rows ``project`` of each event would: an event ``project``
learns to apply must be taken by a stretch too (``batches``), or the stretch ended before it and it applied alone.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

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
)
from services.catalog.domain.rules import certification_key
from services.catalog.read.batches import Stretch, grouped
from services.catalog.read.postings import add_certified_days, post_certifications, repost, standard_keys
from services.catalog.read.tables import (
    capacity,
    certifications,
    commitments,
    msmes,
    product_certifications,
    product_postings,
    products,
)
from shared.eventstore import Connection, RecordedEvent
from shared.mirrors import Upserts
from shared.projection import Decoded, Projection, Tables
from shared.sql import execute, fetchrow


def _json(value: Any) -> str:
    return msgspec.json.encode(value).decode()


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
        "net_mass_kg": event.net_mass_kg,
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
            await repost(connection, tables, listed.c.msme_id == event.msme_id)
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
                "scope_product_ids": None if event.scope is None else event.scope.product_ids,
                "scope_hs_prefixes": None if event.scope is None else event.scope.hs_prefixes,
            }
            await execute(connection, insert(held).values(**values).on_conflict_do_nothing())
            await post_certifications(connection, tables, held.c.id == event.certification_id)
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
                **_product_values(event, record),
            }
            await execute(connection, insert(table).values(**values).on_conflict_do_nothing())
            await repost(connection, tables, table.c.id == event.product_id)  # its MSME's certification kinds too
            await add_certified_days(connection, tables, table.c.id == event.product_id)
        case ProductUpdated():
            await execute(
                connection,
                table.update().where(table.c.id == event.product_id).values(**_product_values(event, record)),
            )
            await repost(connection, tables, table.c.id == event.product_id)
            if "hs_code" in event.changed:  # a certificate scoped by HS prefix may cover it now, or no longer
                days = tables["product_certifications"]
                await execute(connection, days.delete().where(days.c.product_id == event.product_id))
                await add_certified_days(connection, tables, table.c.id == event.product_id)
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


async def project_many(connection: Connection, tables: Tables, events: Decoded) -> None:
    """``project`` of each event in order, in stretches of set-based statements (see ``batches``)."""
    stretch = Stretch()
    for event, record in events:
        if grouped(event, record):
            if not stretch.admits(event):
                await stretch.apply(connection, tables)
                stretch = Stretch()
            stretch.add(event, record)
    if stretch:
        await stretch.apply(connection, tables)


CATALOG = Projection(
    "catalog",
    [msmes, certifications, products, product_postings, product_certifications, capacity],
    project,
    project_many,
)


def keep_committed(rows: Upserts, product_id: UUID, month: str, committed: int) -> None:
    """Keep the month's committed total pooling's ledger reports (totals, not deltas, so only the order within a
    month's ledger stream matters, and the consumer guarantees it); a rebuild of ``CATALOG`` reads it back."""
    key = {"product_id": product_id, "month": month}
    rows.upsert(commitments, list(key), key | {"committed": committed})
    rows.upsert(capacity, list(key), key | {"committed": committed}, new={"declared": 0})
