"""Orders' subscriptions: per-line progress and milestones from pooling, provenance from catalog, pooling and
quality, and other services' events for each order's history.

Catalog, pooling and quality publish on their own streams, so their events arrive in any order relative to
each other (and their subscriptions run side by side, each in its own transaction). What a handler keeps
therefore never depends on another service's event having arrived: each keeps the facts its event carries,
and the reads (history, provenance) join them when they are asked.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import sqlalchemy as sa

from events.base import event_names
from events.catalog import CODEC as CATALOG
from events.catalog import CertificationAdded, MsmeRegistered, MsmeUpdated, ProductListed, ProductUpdated
from events.pooling import CODEC as POOLING
from events.pooling import ConsignmentShipped, LotPassed, LotReceived, LotReturned
from events.quality import CODEC as QUALITY
from events.quality import LotAccepted, LotRejected
from services.orders.commands import advance_order
from services.orders.domain.history import happened_at
from services.orders.domain.order import OrderEvent
from services.orders.domain.timeline import TOLD, orders_named
from services.orders.read.progress import PROGRESS_CHANNEL
from services.orders.read.supply_progress import Recount, apply_pool_event, reaching
from services.orders.read.supply_records import (
    add_to_timeline,
    keep_catalog,
    keep_lot,
    keep_verdict,
)
from services.orders.read.tables import orders
from shared.eventstore import Connection, Metadata
from shared.inbox import Delivery, HandlerContext, Subscription, batch_handlers
from shared.mirrors import mirror_handlers
from shared.sql import fetch

SAGA = "orders:pooling-saga"


async def _correlated_order(connection: Connection, delivery: Delivery) -> UUID | None:
    """The order whose command set this event off, when its correlation id is one of our orders."""
    try:
        order_id = UUID(delivery.metadata.correlation_id or "")
    except ValueError:
        return None
    rows = await fetch(connection, sa.select(orders.c.id).where(orders.c.id == order_id))
    return order_id if rows else None


def _at(delivery: Delivery) -> datetime:
    at = getattr(delivery.event, "at", None)
    return at if isinstance(at, datetime) else delivery.recorded_at


async def _happened(hctx: HandlerContext, delivery: Delivery) -> datetime:
    """When the event happened: its own time, or (for a capacity ledger's event, which has none) the time of
    the order's event that caused it."""
    at = getattr(delivery.event, "at", None)
    if isinstance(at, datetime):
        return at
    try:
        cause = UUID(delivery.metadata.causation_id or "")
    except ValueError:
        return delivery.recorded_at
    store = hctx.store
    row = await hctx.connection.fetchrow(
        f"SELECT event_type, schema_version, data::text AS data FROM {store.schema}.events WHERE event_id = $1", cause
    )
    if row is None:
        return delivery.recorded_at
    event = store.codec.decode(row["event_type"], row["schema_version"], row["data"])
    return happened_at(event) if isinstance(event, OrderEvent) else delivery.recorded_at


async def _tell(hctx: HandlerContext, delivery: Delivery) -> None:
    """Keep a pooling event for the history of each order it names (or whose command caused it)."""
    event = delivery.event
    if not isinstance(event, TOLD):
        return
    named = orders_named(event)
    if not named:  # e.g. a release after the order's lines left the pool, or a capacity ledger's release
        correlated = await _correlated_order(hctx.connection, delivery)
        named = {correlated} if correlated else set()
    if not named:
        return
    event_type, schema_version = POOLING.name_of(event)
    data = POOLING.encode(event).decode()
    at = await _happened(hctx, delivery)
    for order_id in sorted(named):
        await add_to_timeline(
            hctx.connection, order_id, delivery.event_id, service="pooling", event_type=event_type,
            schema_version=schema_version, data=data, at=at, recorded_at=delivery.recorded_at,
            actor=delivery.metadata.actor,
        )  # fmt: skip


async def _advance(hctx: HandlerContext, delivery: Delivery, order_id: UUID) -> None:
    event = delivery.event
    consignment_id = event.consignment_id if isinstance(event, ConsignmentShipped) else None
    metadata = Metadata(
        correlation_id=str(order_id),
        causation_id=str(delivery.event_id),
        actor=SAGA,
        command_id=f"{SAGA}:{delivery.event_id}:{order_id}",
    )
    await advance_order(hctx.store, hctx.connection, order_id, _at(delivery), consignment_id, metadata)


async def follow_pooling(hctx: HandlerContext, deliveries: Sequence[Delivery]) -> None:
    """Per-line progress, the order's milestones, the lots and consignments behind it, and its history: a batch of
    pooling's events in turn, the lines' allocated units counted once for the batch (or before a milestone)."""
    recount = Recount()
    changed_any = False
    for delivery in deliveries:
        event = delivery.event
        if isinstance(event, LotReceived | LotPassed | LotReturned | ConsignmentShipped):
            await keep_lot(hctx.connection, event)
        await _tell(hctx, delivery)
        changed = await apply_pool_event(hctx.connection, event, _at(delivery), recount)
        changed_any = changed_any or bool(changed)
        due = sorted(changed & reaching(event))
        if due:
            await recount.write(hctx.connection)  # the milestones read the lines' progress
        for order_id in due:
            await _advance(hctx, delivery, order_id)
    await recount.write(hctx.connection)
    if changed_any:
        await hctx.connection.execute("SELECT pg_notify($1, '')", PROGRESS_CHANNEL)


async def keep_verdicts(hctx: HandlerContext, delivery: Delivery) -> None:
    """Lot verdicts with their sampling plans. The history of each order the lot serves reads them through the
    lot's lines whenever those arrive (before or after the verdict), so neither waits for the other."""
    event = delivery.event
    if isinstance(event, LotAccepted | LotRejected):
        await keep_verdict(hctx.connection, event, delivery.event_id, delivery.recorded_at, delivery.metadata.actor)


CATALOG_MIRROR = Subscription(
    "catalog",
    "catalog",
    CATALOG,
    *mirror_handlers(keep_catalog),
    ordered=False,
    takes=event_names(MsmeRegistered, MsmeUpdated, CertificationAdded, ProductListed, ProductUpdated),
)
"""Sent only the types it keeps (a bulk's SKU and NIB claims and capacity are most of catalog's events), in the
order they come: an MSME's row is written unless a newer version of its stream wrote it, the rest are rows of
their own (a certification, a product's version)."""
POOLING_SAGA = Subscription("pooling", "pooling", POOLING, *batch_handlers(follow_pooling))
QUALITY_VERDICTS = Subscription("quality", source="quality", codec=QUALITY, handle=keep_verdicts)
