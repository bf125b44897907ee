"""Catalog's projection applied a batch at a time leaves every table exactly as applying each event in turn does.

One generated history — MSMEs registered (some after their products, as a bulk import appends them), products
with standards, HS codes, origin plots and masses, capacity declared and redeclared (twice in one transaction
too), SKUs claimed and released, certifications scoped by product and by HS prefix, many profile and product
updates (moving products into and out of certificates' HS prefixes, or not) interleaved with listings and
certifications, several changes of one MSME and product back to back in every order of two kinds, reminders,
committed units already booked, and one listing no table can hold — is projected event by event into the live
tables and in batches (of 6 and of 500 events) into a rebuild's copies; the two are compared row for row.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg
import msgspec
import pytest

from events.base import Event
from events.catalog import (
    CODEC,
    CapacityDeclared,
    CertificationAdded,
    CertificationExpiring,
    CertificationKind,
    CertificationScope,
    Contact,
    MsmeRegistered,
    MsmeStatus,
    MsmeUpdated,
    NibClaimed,
    OriginPlot,
    PointGeometry,
    ProductListed,
    ProductUpdated,
    SkuClaimed,
    SkuReleased,
    StandardRef,
)
from events.common import Money, PriceTier
from services.catalog.read.projections import CATALOG
from services.catalog.read.tables import commitments
from shared.eventstore import EventStore, Metadata, StreamAppend
from shared.migrations import tables_ddl
from shared.projection import PARKED, Projection
from shared.rebuild import rebuild_tables
from tests.support.projections import project, rows

pytestmark = pytest.mark.integration

AT = datetime(2026, 10, 15, 9, 30, tzinfo=UTC)
MONTHS = ["2026-11", "2026-12", "2027-01"]
PLACES = [("Jawa Barat", "Cirebon"), ("Jawa Tengah", "Jepara"), ("Bali", "Denpasar"), ("Aceh", "Takengon")]
GOODS = [("baskets", "4602.12.10", "rattan basket"), ("coffee", "0901.11.00", "arabica gayo"),
         ("furniture", "9401.61.00", "teak chair"), ("spices", "0908.31.00", "cardamom pods")]  # fmt: skip
KINDS: list[CertificationKind] = ["halal", "sni", "svlk", "organic"]
BY_EVENT = Projection("catalog-by-event", CATALOG.tables, CATALOG.apply)  # the same projection, one event at a time
TOO_BIG = 2**40  # a minimum order quantity no integer column holds


@dataclass
class History:
    """Catalog's events as its commands (and a bulk import) append them: each stream in its order, several
    streams to a transaction."""

    rng: random.Random
    transactions: list[list[StreamAppend]] = field(default_factory=list)
    versions: dict[str, int] = field(default_factory=dict)
    msmes: dict[UUID, MsmeRegistered | MsmeUpdated] = field(default_factory=dict)
    products: dict[UUID, ProductListed | ProductUpdated] = field(default_factory=dict)
    certifications: list[CertificationAdded] = field(default_factory=list)
    clock: datetime = AT

    def new_id(self) -> UUID:
        return UUID(int=self.rng.getrandbits(128), version=4)

    def now(self) -> datetime:
        self.clock += timedelta(seconds=self.rng.randint(1, 600), microseconds=self.rng.randint(0, 999_999))
        return self.clock

    def commit(self, *appends: tuple[str, str, list[Event]]) -> None:
        transaction = []
        for stream_id, stream_type, events in appends:
            version = self.versions.get(stream_id, 0)
            transaction.append(StreamAppend(stream_id, stream_type, version, events, Metadata(actor="test")))
            self.versions[stream_id] = version + len(events)
        self.transactions.append(transaction)

    def registration(self, number: int) -> tuple[list[Event], MsmeRegistered]:
        msme_id, (province, city) = self.new_id(), self.rng.choice(PLACES)
        nib = f"{9_120_000_000_000 + number:013d}"
        registered = MsmeRegistered(
            msme_id=msme_id, org=f"org-{number}", name=f"Usaha {city} {number}", nib=nib, province=province,
            city=city, contact=Contact(name="Siti", phone="+62 231 555 0101"), size_class="small",
            registered_by="nusantara-trading", at=self.now(),
        )  # fmt: skip
        self.msmes[msme_id] = registered
        return [NibClaimed(nib=nib, msme_id=msme_id, at=registered.at)], registered

    def register(self, number: int) -> None:
        claimed, registered = self.registration(number)
        self.commit((f"nib-{registered.nib}", "nib", claimed), (f"msme-{registered.msme_id}", "msme", [registered]))

    def listing(self, msme_id: UUID, serial: int, moq: int | None = None) -> ProductListed:
        category, hs_code, noun = self.rng.choice(GOODS)
        standards = [StandardRef(standard_id=UUID(int=n + 1, version=4), version=self.rng.randint(1, 3))
                     for n in self.rng.sample(range(4), self.rng.randint(0, 2))]  # fmt: skip
        plots = [OriginPlot(geometry=PointGeometry(coordinates=(108.55, -6.7)), area_hectares=Decimal("1.50"))]
        listed = ProductListed(
            product_id=self.new_id(), msme_id=msme_id, org=self.msmes[msme_id].org if msme_id in self.msmes else "",
            sku=f"SKU-{serial:04d}", name=f"{noun} {serial}", description=f"{noun}, hand made", hs_code=hs_code,
            category=category, unit="PCE", moq=moq or self.rng.choice((50, 100)), currency="USD",
            price_tiers=[PriceTier(min_quantity=1, unit_price=Money(amount=Decimal("6.50"), currency="USD"))],
            lead_time_days=30, standards=standards, origin_plots=plots if self.rng.random() < 0.3 else [],
            eudr_commodity="coffee" if category == "coffee" else None,
            net_mass_kg=Decimal(f"{self.rng.randint(1, 900)}.{self.rng.randint(0, 99):02d}"), at=self.now(),
        )  # fmt: skip
        self.products[listed.product_id] = listed
        return listed

    def declared(self, product_id: UUID) -> CapacityDeclared:
        product = self.products[product_id]
        month, units = self.rng.choice(MONTHS), self.rng.randint(0, 3_000)
        return CapacityDeclared(product_id=product_id, msme_id=product.msme_id, month=month, units=units, at=self.now())

    def list_product(self, msme_id: UUID, serial: int, moq: int | None = None) -> ProductListed:
        listed = self.listing(msme_id, serial, moq)
        claimed = SkuClaimed(msme_id=msme_id, product_id=listed.product_id, sku=listed.sku, at=listed.at)
        declared = [self.declared(listed.product_id) for _ in range(self.rng.randint(0, 2))]
        self.commit((f"product-{listed.product_id}", "product", [listed, *declared]),
                    (f"msme-{msme_id}", "msme", [claimed]))  # fmt: skip
        return listed

    def bulk(self, number: int, products: int) -> None:
        """An MSME and its products as a bulk import appends them: the products before the registration."""
        claimed, registered = self.registration(number)
        listed = [self.listing(registered.msme_id, serial) for serial in range(products)]
        skus = [SkuClaimed(msme_id=registered.msme_id, product_id=p.product_id, sku=p.sku, at=p.at) for p in listed]
        self.commit(
            (f"nib-{registered.nib}", "nib", claimed),
            *((f"product-{p.product_id}", "product", [p, self.declared(p.product_id)]) for p in listed),
            (f"msme-{registered.msme_id}", "msme", [registered, *skus]),
        )

    def certify(self, msme_id: UUID) -> None:
        kind = self.rng.choice(KINDS)
        mine = [p for p in self.products.values() if p.msme_id == msme_id]
        scope = self.rng.choice(
            [None, CertificationScope(hs_prefixes=["0901", "46"]), CertificationScope(
                product_ids=[p.product_id for p in self.rng.sample(mine, min(len(mine), 2))])]
        )  # fmt: skip
        start = date(2026, self.rng.randint(1, 12), 1)
        certified = CertificationAdded(
            certification_id=self.new_id(), msme_id=msme_id, kind=kind, name=kind, number=f"C-{self.rng.random()}",
            issuer="BPJPH", valid_from=start, valid_until=start + timedelta(days=self.rng.randint(30, 700)),
            scope=scope, at=self.now(),
        )  # fmt: skip
        self.certifications.append(certified)
        self.commit((f"msme-{msme_id}", "msme", [certified]))

    def remind(self, certified: CertificationAdded) -> None:
        reminder = CertificationExpiring(
            certification_id=certified.certification_id, msme_id=certified.msme_id, kind=certified.kind,
            name=certified.name, number=certified.number, valid_until=certified.valid_until, days_left=30,
            notice_days=30, org="org", registered_by="nusantara-trading", at=self.now(),
        )  # fmt: skip
        self.commit((f"msme-{certified.msme_id}", "msme", [reminder]))

    def update_msme(self, msme_id: UUID) -> None:
        profile = self.msmes[msme_id]
        province, city = self.rng.choice(PLACES)
        status: MsmeStatus = self.rng.choice(("active", "suspended"))
        updated = MsmeUpdated(
            msme_id=msme_id, org=profile.org, name=f"{profile.name} Jaya", nib=profile.nib, province=province,
            city=city, contact=profile.contact, size_class="medium", status=status,
            changed=["name", "province", "city", "status"], at=self.now(),
        )  # fmt: skip
        self.msmes[msme_id] = updated
        self.commit((f"msme-{msme_id}", "msme", [updated]))

    def update_product(self, product_id: UUID, *, reclassify: bool = True, rename: bool = True) -> None:
        """A product's new description: a new name and MOQ, and a new HS code and category (maybe the same ones)
        and SKU if asked; capacity redeclared with it if renamed, as a catalog edit form saves both."""
        product = self.products[product_id]
        fields: dict[str, Any] = {
            name: value for name, value in msgspec.structs.asdict(product).items() if name != "changed"
        }
        changed = ["name", "moq"]
        fields |= {"name": f"{product.name} deluxe", "moq": product.moq + 10, "at": self.now()}
        if reclassify:
            category, hs_code, _ = self.rng.choice(GOODS)
            fields |= {"hs_code": hs_code, "category": category}
            changed += ["hs_code", "category"]
        if rename:
            fields["sku"] = f"{product.sku}-B"
            changed.append("sku")
        updated = ProductUpdated(**fields, changed=changed)
        self.products[product_id] = updated
        at, msme = updated.at, product.msme_id
        if not rename:
            self.commit((f"product-{product_id}", "product", [updated]))
            return
        renamed: list[Event] = [SkuReleased(msme_id=msme, product_id=product_id, sku=product.sku, at=at),
                                SkuClaimed(msme_id=msme, product_id=product_id, sku=updated.sku, at=at)]  # fmt: skip
        self.commit((f"product-{product_id}", "product", [updated, self.declared(product_id)]),
                    (f"msme-{msme}", "msme", renamed))  # fmt: skip

    def flurry(self, msme_id: UUID, actions: list[str], serial: int) -> None:
        """Commands on one MSME and one of its products in quick succession (so within one batch, mostly), in
        the order given: listing another product (which the later ones then change), describing the product
        again (with a new HS code or not), certifying the MSME, updating its profile, declaring capacity."""
        mine = [p for p in self.products.values() if p.msme_id == msme_id]
        product = self.rng.choice(mine).product_id if mine else self.list_product(msme_id, serial).product_id
        for number, action in enumerate(actions):
            if action == "list":
                product = self.list_product(msme_id, serial * 10 + number).product_id
            elif action == "describe":
                self.update_product(product, reclassify=self.rng.random() < 0.7, rename=self.rng.random() < 0.5)
            elif action == "certify":
                self.certify(msme_id)
            elif action == "profile":
                self.update_msme(msme_id)
            else:
                self.commit((f"product-{product}", "product", [self.declared(product)]))


FLURRY = ["list", "describe", "certify", "profile", "declare"]


def marketplace(seed: int) -> tuple[History, UUID]:
    """The history, and the product whose listing cannot be applied."""
    history = History(random.Random(seed))
    for number in range(12):
        history.register(number)
    for number in range(12, 20):
        history.bulk(number, products=history.rng.randint(1, 6))
    unlisted = history.list_product(next(iter(history.msmes)), 99, moq=TOO_BIG).product_id
    del history.products[unlisted]
    for step in range(400):
        msme_id = history.rng.choice(list(history.msmes))
        roll = history.rng.random()
        if roll < 0.25:
            history.list_product(msme_id, 100 + step)
        elif roll < 0.4 and history.products:
            product_id = history.rng.choice(list(history.products))
            history.commit((f"product-{product_id}", "product", [history.declared(product_id) for _ in range(2)]))
        elif roll < 0.5:
            history.certify(msme_id)
        elif roll < 0.55 and history.certifications:
            history.remind(history.rng.choice(history.certifications))
        elif roll < 0.6:
            history.update_msme(msme_id)
        elif roll < 0.8 and history.products:
            product_id = history.rng.choice(list(history.products))
            history.update_product(product_id, reclassify=history.rng.random() < 0.6, rename=history.rng.random() < 0.5)
        elif roll < 0.9:
            actions = history.rng.choices(FLURRY, k=history.rng.randint(3, 8))
            history.flurry(msme_id, actions, 10_000 + step)
        else:
            history.register(1_000 + step)
    # Every ordered pair of changes to one MSME and product, back to back.
    for number, (first, then) in enumerate((a, b) for a in FLURRY for b in FLURRY):
        history.flurry(history.rng.choice(list(history.msmes)), [first, then, first], 20_000 + number)
    return history, unlisted


@pytest.mark.parametrize("limit", [6, 500])
async def test_batches_leave_the_rows_applying_each_event_leaves(pool: asyncpg.Pool, limit: int) -> None:
    history, unlisted = marketplace(seed=25)
    kinds = Counter(type(e) for transaction in history.transactions for a in transaction for e in a.events)
    assert kinds[ProductUpdated] > 100 and kinds[CertificationAdded] > 50 and kinds[MsmeUpdated] > 50, kinds
    store = EventStore(pool, "catalog", CODEC)
    for transaction in history.transactions:
        await store.append_many(transaction)
    booked = list(history.products)[::5]  # pooling already committed units of some products' months
    await pool.executemany(
        f"INSERT INTO {commitments.fullname} (product_id, month, committed) VALUES ($1, $2, $3)",
        [(product_id, month, 40) for product_id in booked for month in MONTHS[:2]],
    )
    metadata, batched = rebuild_tables(CATALOG)
    async with pool.acquire() as connection:
        for statement in tables_ddl(metadata):
            await connection.execute(statement)

    events = await project(store, BY_EVENT, BY_EVENT.live_tables(), 500)
    assert await project(store, CATALOG, batched, limit) == events > 1_000, events

    async with pool.acquire() as connection:
        for name, table in BY_EVENT.live_tables().items():
            assert await rows(connection, batched[name]) == await rows(connection, table), name
        counts = {name: await connection.fetchval(f"SELECT count(*) FROM {t.fullname}") for name, t in batched.items()}
        booked_months = f"SELECT count(*) FROM {batched['capacity'].fullname} WHERE committed > 0"
        committed = await connection.fetchval(booked_months)
        parked = await connection.fetch(f"SELECT projection, event_id FROM catalog.{PARKED} ORDER BY projection")
    assert counts["msmes"] > 40 and counts["products"] > 100 and counts["certifications"] > 20, counts
    assert counts["product_postings"] > 20 * counts["products"] and counts["product_certifications"] > 20, counts
    assert counts["capacity"] > 100 and committed > 10, (counts, committed)
    listing = [e.event_id for e in await store.read_stream(f"product-{unlisted}")][:1]
    assert [(r["projection"], r["event_id"]) for r in parked] == [("catalog", *listing), ("catalog-by-event", *listing)]
