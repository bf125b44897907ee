"""The catalog projection a stretch of events at a time: the rows ``project`` leaves event by event, in a few
set-based statements instead of four or five round trips per product.

Within a ``Stretch`` the events are applied grouped by kind: the MSMEs registered, then the products listed (one
insert, then filed under their keys and given their certified days for all of them at once), then the capacity
declared, then each row's version. That leaves the rows applying them in order would, because a stretch admits
no event whose outcome the grouping could change: the registration of an MSME after a listing of one of its
products (the listing copies the MSME's name and place as they were), a second registration of an MSME or
listing of a product, or a registration or listing of a row whose version the stretch already bumps. The events
that change what later ones read (profile and product updates, certifications) are rare and applied alone,
between stretches.

The inserts and bumps are SQL written once per set of tables, the values passed as arrays and joined by
``unnest``; filing products under their keys and days reuses ``postings``' statements, which ``shared.sql``
compiles once. A stretch of any length costs the same few round trips, and nothing is compiled per event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any
from uuid import UUID

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

from events.base import Event
from events.catalog import CapacityDeclared, MsmeRegistered, ProductListed, SkuClaimed, SkuReleased
from services.catalog.read.postings import add_certified_days, post, standard_keys
from services.catalog.read.tables import commitments
from shared.eventstore import Connection, RecordedEvent
from shared.projection import Tables

_encode = msgspec.json.Encoder().encode


def _json(value: Any) -> str:
    return _encode(value).decode()


def grouped(event: Event, record: RecordedEvent) -> bool:
    """Is ``event`` one a stretch applies (as ``project`` would, by the kind of its stream)?"""
    match record.stream_type, event:
        case ("msme", MsmeRegistered() | SkuClaimed() | SkuReleased()):
            return True
        case ("product", ProductListed() | CapacityDeclared()):
            return True
    return False


@dataclass
class Stretch:
    """Consecutive events of the grouped kinds, applied together (see the module's docstring)."""

    registered: list[tuple[MsmeRegistered, int]] = field(default_factory=list)
    listed: list[tuple[ProductListed, int]] = field(default_factory=list)
    declared: dict[tuple[UUID, str], int] = field(default_factory=dict)  # the last units of each product's month
    msme_versions: dict[UUID, int] = field(default_factory=dict)  # the last of each MSME's bumps
    product_versions: dict[UUID, int] = field(default_factory=dict)
    msmes: set[UUID] = field(default_factory=set)  # registered or bumped
    products: set[UUID] = field(default_factory=set)  # listed or bumped
    msmes_listing: set[UUID] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.msmes or self.products)

    def admits(self, event: Event) -> bool:
        match event:
            case MsmeRegistered(msme_id=msme):
                return msme not in self.msmes and msme not in self.msmes_listing
            case ProductListed(product_id=product):
                return product not in self.products
        return True

    def add(self, event: Event, record: RecordedEvent) -> None:
        version = record.stream_version
        match event:
            case MsmeRegistered(msme_id=msme):
                self.registered.append((event, version))
                self.msmes.add(msme)
            case ProductListed(product_id=product, msme_id=msme):
                self.listed.append((event, version))
                self.products.add(product)
                self.msmes_listing.add(msme)
            case CapacityDeclared(product_id=product, month=month, units=units):
                self.declared[(product, month)] = units
                self.product_versions[product] = version
                self.products.add(product)
            case SkuClaimed(msme_id=msme) | SkuReleased(msme_id=msme):
                self.msme_versions[msme] = version
                self.msmes.add(msme)

    async def apply(self, connection: Connection, tables: Tables) -> None:
        sql = _statements(tables["msmes"].fullname, tables["products"].fullname, tables["capacity"].fullname)
        # Each row's version is its stream's, so ``If-Match`` works against what a GET shows: a row inserted here
        # starts at the version its stream reaches in the stretch, and only rows there before are bumped.
        msme_versions, product_versions = dict(self.msme_versions), dict(self.product_versions)
        if self.registered:
            rows = [_registration(e, msme_versions.get(e.msme_id, version)) for e, version in self.registered]
            for row in await connection.fetch(sql.register, *_columns(rows)):
                msme_versions.pop(row["id"], None)
        if self.listed:
            rows = [_listing(e, product_versions.get(e.product_id, version)) for e, version in self.listed]
            inserted = [row["id"] for row in await connection.fetch(sql.list, *_columns(rows))]
            for product in inserted:
                product_versions.pop(product, None)
            if inserted:
                # A product listed before has the postings and days filing it again would give it: only new ones
                # are filed (under their MSME's certification kinds too), with nothing of theirs to delete first.
                new = tables["products"].c.id == sa.any_(sa.bindparam("ids", inserted, type_=ARRAY(sa.Uuid)))
                await post(connection, tables, new)
                await add_certified_days(connection, tables, new)
        if self.declared:
            months = list(self.declared)
            units = list(self.declared.values())
            await connection.execute(sql.declare, [p for p, _ in months], [m for _, m in months], units)
        for statement, versions in ((sql.bump_msmes, msme_versions), (sql.bump_products, product_versions)):
            if versions:
                await connection.execute(statement, list(versions), list(versions.values()))


def _columns(rows: Any) -> list[list[Any]]:
    """Rows of values as one list per column, the arrays ``unnest`` takes."""
    return [list(column) for column in zip(*rows, strict=True)]


def _registration(event: MsmeRegistered, version: int) -> tuple[Any, ...]:
    contact = _json(event.contact)
    return (event.msme_id, event.org, event.name, event.nib, event.province, event.city, contact, event.size_class,
            event.status, event.registered_by, event.at, version)  # fmt: skip


def _listing(event: ProductListed, version: int) -> tuple[Any, ...]:
    return (event.product_id, event.msme_id, event.org, event.sku, event.name, event.description, event.hs_code,
            event.category, event.unit, event.moq, _json(event.price_tiers), event.currency, event.lead_time_days,
            _json(standard_keys(event.standards)), _json(event.standards), _json(event.origin_plots),
            event.eudr_commodity, event.net_mass_kg, event.at, version)  # fmt: skip


@dataclass(frozen=True)
class _Statements:
    register: str
    list: str
    declare: str
    bump_msmes: str
    bump_products: str


@cache
def _statements(msmes: str, products: str, capacity: str) -> _Statements:
    """The stretch's SQL for one set of tables (the live ones, or a rebuild's copies)."""
    register = f"""
        INSERT INTO {msmes} (id, org, name, nib, province, city, contact, size_class, status, registered_by,
                             registered_at, updated_at, version)
        SELECT id, org, name, nib, province, city, contact::jsonb, size_class, status, registered_by, at, at, version
        FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                    $9::text[], $10::text[], $11::timestamptz[], $12::int[])
             AS r(id, org, name, nib, province, city, contact, size_class, status, registered_by, at, version)
        ON CONFLICT DO NOTHING
        RETURNING id"""
    # An MSME not registered (yet) leaves its products the empty name and place ``project`` gives them.
    listing = f"""
        INSERT INTO {products} (id, msme_id, org, msme_name, msme_status, province, city, sku, name, description,
                                hs_code, category, unit, moq, price_tiers, currency, lead_time_days, standards,
                                standard_refs, origin_plots, eudr_commodity, net_mass_kg, listed_at, updated_at,
                                version)
        SELECT p.id, p.msme_id, p.org, coalesce(m.name, ''), coalesce(m.status, 'active'),
               coalesce(m.province, ''), coalesce(m.city, ''), p.sku, p.name, p.description, p.hs_code, p.category,
               p.unit, p.moq, p.price_tiers::jsonb, p.currency, p.lead_time_days,
               ARRAY(SELECT s.key FROM jsonb_array_elements_text(p.standards::jsonb) WITH ORDINALITY AS s(key, n)
                     ORDER BY s.n),
               p.standard_refs::jsonb, p.origin_plots::jsonb, p.eudr_commodity, p.net_mass_kg, p.at, p.at, p.version
        FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                    $9::text[], $10::int[], $11::text[], $12::text[], $13::int[], $14::text[], $15::text[],
                    $16::text[], $17::text[], $18::numeric[], $19::timestamptz[], $20::int[])
             AS p(id, msme_id, org, sku, name, description, hs_code, category, unit, moq, price_tiers, currency,
                  lead_time_days, standards, standard_refs, origin_plots, eudr_commodity, net_mass_kg, at, version)
        LEFT JOIN {msmes} m ON m.id = p.msme_id
        ON CONFLICT DO NOTHING
        RETURNING id"""
    declare = f"""
        INSERT INTO {capacity} (product_id, month, declared, committed)
        SELECT d.product_id, d.month, d.units, coalesce(c.committed, 0)
        FROM unnest($1::uuid[], $2::text[], $3::int[]) AS d(product_id, month, units)
        LEFT JOIN {commitments.fullname} c ON c.product_id = d.product_id AND c.month = d.month
        ON CONFLICT (product_id, month) DO UPDATE SET declared = EXCLUDED.declared"""
    bump = "UPDATE {} t SET version = v.version FROM unnest($1::uuid[], $2::int[]) AS v(id, version) WHERE t.id = v.id"
    return _Statements(register, listing, declare, bump.format(msmes), bump.format(products))
