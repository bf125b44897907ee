"""Mirrors sent only the catalog event types they keep take them in the order they come, not their stream's: an
MSME's registration and updates, handled in every order, one at a time or in one batch, leave the newest version's
row in orders and in quality; a product's listing and update leave a row each in orders' product versions."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID

import asyncpg
import pytest

from events.base import Event
from events.catalog import Contact, MsmeRegistered, MsmeUpdated, ProductListed, ProductUpdated
from events.common import Money, PriceTier
from events.orders import CODEC as ORDERS_CODEC
from events.quality import CODEC as QUALITY_CODEC
from services.accounts.app import service as ACCOUNTS
from services.orders.app import service as ORDERS
from services.orders.handlers import CATALOG_MIRROR
from services.quality.app import service as QUALITY
from services.quality.handlers import MSME_OWNERS
from shared.eventstore import EventStore, Metadata
from shared.inbox import Delivery, Subscription, handle_batch, handle_once
from shared.kernel.ids import new_id
from shared.migrations import migrate

pytestmark = pytest.mark.integration

AT = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
PROFILE = {"nib": "9120001234567", "contact": Contact(name="Siti", phone="+62 231 555 0100"), "size_class": "small"}


def msme_stream(msme_id: UUID) -> list[Delivery]:
    """An MSME registered by one organisation (v1), handed to another (v4), then renamed and suspended (v7); the
    versions between are events the mirrors are not sent (SKU claims)."""
    registered = MsmeRegistered(
        msme_id=msme_id, org="cirebon-rattan", name="Rotan Jaya", province="Jawa Barat", city="Cirebon",
        registered_by="cirebon-rattan", at=AT, **PROFILE,
    )  # fmt: skip
    updated = {"msme_id": msme_id, "province": "Jawa Barat", "city": "Cirebon", **PROFILE}
    handed = MsmeUpdated(org="weaver-12", name="Rotan Jaya", status="active", changed=["org"], at=AT, **updated)
    renamed = MsmeUpdated(
        org="weaver-12", name="Rotan Jaya Abadi", status="suspended", changed=["name", "status"], at=AT, **updated
    )
    return [_delivery(f"msme-{msme_id}", v, e) for v, e in ((1, registered), (4, handed), (7, renamed))]


def product_stream(product_id: UUID, msme_id: UUID) -> list[Delivery]:
    listing = {
        "product_id": product_id, "msme_id": msme_id, "org": "weaver-12", "sku": "RB-30", "description": "basket",
        "hs_code": "460212", "category": "rattan baskets", "unit": "PCE", "moq": 100, "currency": "USD",
        "price_tiers": [PriceTier(min_quantity=1, unit_price=Money(amount=Decimal("3.20"), currency="USD"))],
        "lead_time_days": 30, "standards": [], "at": AT,
    }  # fmt: skip
    listed = ProductListed(name="Round basket", **listing)
    renamed = ProductUpdated(name="Round basket, 30 cm", changed=["name"], **listing)
    return [_delivery(f"product-{product_id}", 1, listed), _delivery(f"product-{product_id}", 3, renamed)]


def _delivery(stream_id: str, version: int, event: Event) -> Delivery:
    return Delivery(
        event=event,
        event_id=new_id(),
        stream_id=stream_id,
        stream_version=version,
        position=version,
        metadata=Metadata(actor="catalog"),
        recorded_at=AT + timedelta(seconds=version),
        source="catalog",
    )


async def handle(pool: asyncpg.Pool, store: EventStore, subscription: Subscription, arriving: Sequence[Delivery], *,
                 one_at_a_time: bool) -> None:  # fmt: skip
    if one_at_a_time:
        for delivery in arriving:
            await handle_once(pool, store, subscription, delivery)
    else:
        await handle_batch(pool, store, subscription, arriving)


@pytest.mark.parametrize("one_at_a_time", [False, True], ids=["in one batch", "one at a time"])
async def test_orders_keeps_the_newest_msme_and_every_product_version_whatever_the_order(
    pool: asyncpg.Pool, one_at_a_time: bool
) -> None:
    store = EventStore(pool, "orders", ORDERS_CODEC)
    for arriving in itertools.permutations(range(3)):
        msme_id, product_id = new_id(), new_id()
        msme = msme_stream(msme_id)
        products = product_stream(product_id, msme_id)
        deliveries = [msme[n] for n in arriving] + products[::-1]  # the product's update before its listing, too
        await handle(pool, store, CATALOG_MIRROR, deliveries, one_at_a_time=one_at_a_time)
        row = await pool.fetchrow("SELECT org, name, status, version FROM orders.msmes WHERE msme_id = $1", msme_id)
        assert dict(row) == {"org": "weaver-12", "name": "Rotan Jaya Abadi", "status": "suspended", "version": 7}, (
            arriving
        )
        versions = await pool.fetch(
            "SELECT version, name FROM orders.product_versions WHERE product_id = $1 ORDER BY version", product_id
        )
        assert [tuple(r) for r in versions] == [(1, "Round basket"), (3, "Round basket, 30 cm")]
        await handle(pool, store, CATALOG_MIRROR, msme[:1], one_at_a_time=True)  # the registration again: a duplicate
        assert await pool.fetchval("SELECT org FROM orders.msmes WHERE msme_id = $1", msme_id) == "weaver-12"


@pytest.mark.parametrize("one_at_a_time", [False, True], ids=["in one batch", "one at a time"])
async def test_quality_keeps_the_newest_owner_whatever_the_order(pool: asyncpg.Pool, one_at_a_time: bool) -> None:
    store = EventStore(pool, "quality", QUALITY_CODEC)
    for arriving in itertools.permutations(range(2)):
        msme_id = new_id()
        registered, handed, _ = msme_stream(msme_id)
        await handle(pool, store, MSME_OWNERS, [(registered, handed)[n] for n in arriving], one_at_a_time=one_at_a_time)
        row = await pool.fetchrow("SELECT org, version FROM quality.msme_owners WHERE msme_id = $1", msme_id)
        assert tuple(row) == ("weaver-12", 4), arriving


async def test_a_database_from_before_drops_the_stream_progress_these_subscriptions_no_longer_keep(
    pool: asyncpg.Pool,
) -> None:
    """Orders' and quality's mirrors of catalog and accounts' audit trail kept each stream's progress while they
    were held to stream order; migrated, a database of then keeps no such row, and another consumer's stay."""
    services = [(ORDERS, "0006_msme_versions", "catalog"), (QUALITY, "0003_msme_owner_versions", "msme-owners")]
    services.append((ACCOUNTS, "0003_trail_without_stream_order", "audit-catalog"))
    async with pool.acquire() as connection:
        for service, migration, consumer in services:
            schema = service.name
            await connection.execute(f"DELETE FROM {schema}.migrations WHERE name = $1", migration)
            await connection.execute(
                f"INSERT INTO {schema}.stream_progress (consumer, stream_id, version) "
                "VALUES ($1, 'msme-1', 3), ('pooling', 'pool-1', 7)",
                consumer,
            )
            assert await migrate(connection, schema, service.migrations) == [migration]
            rows = await connection.fetch(f"SELECT consumer, stream_id, version FROM {schema}.stream_progress")
            assert [tuple(row) for row in rows] == [("pooling", "pool-1", 7)], schema
