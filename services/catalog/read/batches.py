"""The catalog projection a stretch of events at a time: the rows ``project`` leaves event by event, in a few
set-based statements instead of several round trips per event.

Within a ``Stretch`` the events are applied grouped by kind, in this order: the MSMEs registered, the products
listed (one insert, then the new ones filed under their keys and given their certified days); the products
updated or of an updated MSME taken off their lists, the MSMEs' last profiles (on their rows and all of their
products), the products' last descriptions, and those products filed again; the certifications added (one
insert, then their kinds and days filed for the products they cover); the certified days worked out again where
an update changed the HS code; the capacity declared, and each row's version.

That leaves the rows applying the events in order would, because what each kind writes does not depend on
where in the stretch the others fall:
- a profile or a description carries the whole row after the change, so the last one of each row is the row;
  a profile is written on all of its MSME's products, so a product listed before it and one listed after it
  (which copied it) end alike;
- a product's posting keys are those of its last state and its MSME's certifications (every change of what they
  derive from refiles it), so taking it off the keys its row gives before the stretch changes it and filing it
  once from its final row, the certifications of the stretch adding their kinds after, gives the same keys;
- certified days only ever gain days (a union of ranges, in which adding a certificate twice changes nothing),
  except where an update changes the HS code and they are worked out again from every certification: so
  whether a certification of the stretch reaches a product at its listing, at its own insert or at that
  recalculation, the product ends with the days of every certification covering its final HS code. The decider
  names ``hs_code`` in ``changed`` whenever the code changes (it compares the fields), which this relies on.

A stretch admits no event whose outcome the grouping could change: the registration of an MSME after a listing
of one of its products (the listing copies the MSME's name and place as they were, and a registration, unlike a
profile, leaves products alone), a second registration of an MSME or listing of a product, a registration or
listing of a row the stretch already changed, or a certification added twice. The events ``project`` leaves
the tables alone for (NIB claims, certificate reminders, plots' events) are skipped.

The statements are ``stretch_sql``'s, written once per set of tables; filing products under their keys and days
reuses ``postings``' statements, which ``shared.sql`` compiles once. A stretch of any length costs the same few
round trips, and nothing is compiled per event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.elements import CollectionAggregate

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
from services.catalog.read import stretch_sql
from services.catalog.read.postings import add_certified_days, post, post_certifications, unpost
from shared.eventstore import Connection, RecordedEvent
from shared.projection import Tables


def grouped(event: Event, record: RecordedEvent) -> bool:
    """Is ``event`` one ``project`` changes the tables for (by the kind of its stream), and so a stretch applies?"""
    match record.stream_type, event:
        case ("msme", MsmeRegistered() | MsmeUpdated() | CertificationAdded() | SkuClaimed() | SkuReleased()):
            return True
        case ("product", ProductListed() | ProductUpdated() | CapacityDeclared()):
            return True
    return False


@dataclass
class Stretch:
    """Consecutive events, applied together (see the module's docstring)."""

    registered: list[tuple[MsmeRegistered, int]] = field(default_factory=list)
    listed: list[tuple[ProductListed, int]] = field(default_factory=list)
    profiles: dict[UUID, MsmeUpdated] = field(default_factory=dict)  # the last of each MSME's
    descriptions: dict[UUID, ProductUpdated] = field(default_factory=dict)  # the last of each product's
    reclassified: set[UUID] = field(default_factory=set)  # products an update gave another HS code
    certified: dict[UUID, CertificationAdded] = field(default_factory=dict)
    declared: dict[tuple[UUID, str], int] = field(default_factory=dict)  # the last units of each product's month
    msme_versions: dict[UUID, int] = field(default_factory=dict)  # the last of each MSME's bumps
    product_versions: dict[UUID, int] = field(default_factory=dict)
    msmes: set[UUID] = field(default_factory=set)  # registered or changed
    products: set[UUID] = field(default_factory=set)  # listed or changed
    msmes_listing: set[UUID] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.msmes or self.products)

    def admits(self, event: Event) -> bool:
        match event:
            case MsmeRegistered(msme_id=msme):
                return msme not in self.msmes and msme not in self.msmes_listing
            case ProductListed(product_id=product):
                return product not in self.products
            case CertificationAdded(certification_id=certification):
                return certification not in self.certified
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
            case MsmeUpdated(msme_id=msme):
                self.profiles[msme] = event
                self._bump_msme(msme, version)
            case CertificationAdded(certification_id=certification, msme_id=msme):
                self.certified[certification] = event
                self._bump_msme(msme, version)
            case ProductUpdated(product_id=product, changed=changed):
                self.descriptions[product] = event
                if "hs_code" in changed:
                    self.reclassified.add(product)
                self._bump_product(product, version)
            case CapacityDeclared(product_id=product, month=month, units=units):
                self.declared[(product, month)] = units
                self._bump_product(product, version)
            case SkuClaimed(msme_id=msme) | SkuReleased(msme_id=msme):
                self._bump_msme(msme, version)

    def _bump_msme(self, msme: UUID, version: int) -> None:
        self.msme_versions[msme] = version
        self.msmes.add(msme)

    def _bump_product(self, product: UUID, version: int) -> None:
        self.product_versions[product] = version
        self.products.add(product)

    async def apply(self, connection: Connection, tables: Tables) -> None:
        names = ("msmes", "products", "certifications", "capacity")
        sql = stretch_sql.statements(*(tables[name].fullname for name in names))
        # Each row's version is its stream's, so ``If-Match`` works against what a GET shows: a row inserted here
        # starts at the version its stream reaches in the stretch, and only rows there before are bumped.
        msme_versions, product_versions = dict(self.msme_versions), dict(self.product_versions)
        listed = tables["products"]
        if self.registered:
            rows = [stretch_sql.registration(e, msme_versions.get(e.msme_id, v)) for e, v in self.registered]
            for row in await connection.fetch(sql.register, *stretch_sql.columns(rows)):
                msme_versions.pop(row["id"], None)
        if self.listed:
            rows = [stretch_sql.listing(e, product_versions.get(e.product_id, v)) for e, v in self.listed]
            inserted = [row["id"] for row in await connection.fetch(sql.list, *stretch_sql.columns(rows))]
            for product in inserted:
                product_versions.pop(product, None)
            # A product listed before has the postings and days filing it again would give it: only new ones are
            # filed (under their MSME's certification kinds too), with nothing of theirs to delete first; those
            # the stretch changes are filed with the changed ones, below.
            owners = {e.product_id: e.msme_id for e, _ in self.listed}
            unchanged = [p for p in inserted if p not in self.descriptions and owners[p] not in self.profiles]
            if unchanged:
                await post(connection, tables, listed.c.id == _any(unchanged))
            if inserted:
                await add_certified_days(connection, tables, listed.c.id == _any(inserted))
        changed = sa.or_(
            listed.c.id == _any(list(self.descriptions)), listed.c.msme_id == _any(list(self.profiles), "msme_ids")
        )
        if self.descriptions or self.profiles:
            await unpost(connection, tables, changed)  # by the keys their rows give them still
        if self.profiles:
            await connection.execute(
                sql.profile, *stretch_sql.columns(map(stretch_sql.profile, self.profiles.values()))
            )
        if self.descriptions:
            described = map(stretch_sql.description, self.descriptions.values())
            await connection.execute(sql.describe, *stretch_sql.columns(described))
        if self.descriptions or self.profiles:
            await post(connection, tables, changed)
        if self.certified:
            await connection.execute(
                sql.certify, *stretch_sql.columns(map(stretch_sql.certification, self.certified.values()))
            )
            await post_certifications(connection, tables, tables["certifications"].c.id == _any(list(self.certified)))
        if self.reclassified:
            # A certificate scoped by HS prefix may cover them now, or no longer: their days are worked out again.
            days, reclassified = tables["product_certifications"], list(self.reclassified)
            await connection.execute(f"DELETE FROM {days.fullname} WHERE product_id = ANY($1::uuid[])", reclassified)
            await add_certified_days(connection, tables, listed.c.id == _any(reclassified))
        if self.declared:
            months = list(self.declared)
            units = list(self.declared.values())
            await connection.execute(sql.declare, [p for p, _ in months], [m for _, m in months], units)
        for statement, versions in ((sql.bump_msmes, msme_versions), (sql.bump_products, product_versions)):
            if versions:
                await connection.execute(statement, list(versions), list(versions.values()))


def _any(ids: list[UUID], name: str = "ids") -> CollectionAggregate[Any]:
    """``= ANY($ids)``: one statement, compiled once, for any number of ids."""
    return sa.any_(sa.bindparam(name, ids, type_=ARRAY(sa.Uuid)))
