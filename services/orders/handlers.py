"""Orders' subscriptions: per-line progress and milestones from pooling, provenance from catalog, pooling and
quality, and other services' events for each order's history."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec
import sqlalchemy as sa

from events.catalog import CODEC as CATALOG
from events.catalog import CertificationAdded, MsmeRegistered, MsmeUpdated, ProductListed, ProductUpdated
from events.pooling import CODEC as POOLING
from events.pooling import ConsignmentShipped, LotPassed, LotReceived, LotReturned
from events.quality import CODEC as QUALITY
from events.quality import ClassPlan, LotAccepted, LotRejected
from services.orders.flow_tables import lot_inspections
from services.orders.history import happened_at
from services.orders.milestones import due_milestones
from services.orders.order import ORDER, OrderEvent, order_stream
from services.orders.progress import PROGRESS_CHANNEL, progress_of
from services.orders.projections import orders
from services.orders.supply_progress import apply_pool_event
from services.orders.supply_records import (
    add_to_timeline,
    keep_certification,
    keep_lot,
    keep_msme,
    keep_product,
    keep_verdict,
    lot_code,
    msme_names,
    orders_of_lot,
)
from services.orders.timeline import TOLD, orders_named, pooling_summary, verdict_summary
from shared.consumer import Delivery, HandlerContext, Subscription
from shared.decider import UnitOfWork, run_command
from shared.eventstore import Connection, Metadata
from shared.sql import fetch

SAGA = "orders:pooling-saga"
_plans = msgspec.json.Decoder(list[ClassPlan])
_reasons = msgspec.json.Decoder(list[str])


async def keep_catalog(hctx: HandlerContext, delivery: Delivery) -> None:
    """MSMEs, their certifications and products (with origin plots), for provenance."""
    event = delivery.event
    match event:
        case MsmeRegistered() | MsmeUpdated():
            await keep_msme(hctx.connection, event)
        case CertificationAdded():
            await keep_certification(hctx.connection, event)
        case ProductListed() | ProductUpdated():
            await keep_product(hctx.connection, event, delivery.stream_version)


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
    """Put a pooling event in the history of each order it names (or whose command caused it)."""
    event = delivery.event
    if not isinstance(event, TOLD):
        return
    named = orders_named(event)
    if not named:  # e.g. a release after the order's lines left the pool, or a capacity ledger's release
        correlated = await _correlated_order(hctx.connection, delivery)
        named = {correlated} if correlated else set()
    if not named:
        return
    msme_id = getattr(event, "msme_id", None)
    names = await msme_names(hctx.connection, [msme_id] if isinstance(msme_id, UUID) else [])
    codes: dict[UUID, str] = {}
    if isinstance(event, LotPassed | LotReturned):
        code = await lot_code(hctx.connection, event.lot_id)
        codes = {event.lot_id: code} if code else {}
    event_type, _ = POOLING.name_of(event)
    at = await _happened(hctx, delivery)
    for order_id in sorted(named):
        summary = pooling_summary(event, order_id, names, codes)
        if summary is None:
            continue
        await add_to_timeline(
            hctx.connection, order_id, delivery.event_id, service="pooling", event_type=event_type,
            at=at, recorded_at=delivery.recorded_at, actor=delivery.metadata.actor, summary=summary,
        )  # fmt: skip
    if isinstance(event, LotReceived):
        await _tell_earlier_verdicts(hctx.connection, event)


async def _tell_earlier_verdicts(connection: Connection, lot: LotReceived) -> None:
    """Verdicts that arrived before pooling's word of the lot join the histories of the orders it serves."""
    rows = await fetch(connection, sa.select(lot_inspections).where(lot_inspections.c.lot_id == lot.lot_id))
    names = await msme_names(connection, [lot.msme_id])
    for row in rows:
        summary = verdict_summary(
            accepted=row["accepted"],
            lot=lot.lot_code,
            msme=names.get(lot.msme_id, str(lot.msme_id)),
            severity=row["severity"],
            inspector_org=row["inspector_org"],
            plans=_plans.decode(row["plans"]),
            reasons=_reasons.decode(row["reasons"]),
        )
        event_type = "LotAccepted" if row["accepted"] else "LotRejected"
        for order_id in sorted({line.order_id for line in lot.lines}):
            await add_to_timeline(
                connection, order_id, row["event_id"], service="quality", event_type=event_type, at=row["at"],
                recorded_at=row["recorded_at"], actor=row["actor"], summary=summary,
            )  # fmt: skip


async def _advance(hctx: HandlerContext, delivery: Delivery, order_id: UUID) -> None:
    """Move the order to the milestone its supply has reached (each command is a no-op once reached)."""
    event = delivery.event
    consignment_id = event.consignment_id if isinstance(event, ConsignmentShipped) else None
    stream = order_stream(order_id)

    async def work(unit: UnitOfWork) -> None:
        order = await unit.load(ORDER, stream)
        if order.state is None:
            return
        progress = await progress_of(unit.connection, order_id)
        for command in due_milestones(order, progress, _at(delivery), consignment_id):
            await unit.execute(ORDER, stream, command)

    metadata = Metadata(
        correlation_id=str(order_id),
        causation_id=str(delivery.event_id),
        actor=SAGA,
        command_id=f"{SAGA}:{delivery.event_id}:{order_id}",
    )
    await run_command(hctx.store, work, metadata=metadata, connection=hctx.connection)


async def follow_pooling(hctx: HandlerContext, delivery: Delivery) -> None:
    """Per-line progress, the order's milestones, the lots and consignments behind it, and its history."""
    event = delivery.event
    if isinstance(event, LotReceived | LotPassed | LotReturned | ConsignmentShipped):
        await keep_lot(hctx.connection, event)
    await _tell(hctx, delivery)
    changed = await apply_pool_event(hctx.connection, event, _at(delivery))
    if changed:
        await hctx.connection.execute("SELECT pg_notify($1, '')", PROGRESS_CHANNEL)
    for order_id in sorted(changed):
        await _advance(hctx, delivery, order_id)


async def keep_verdicts(hctx: HandlerContext, delivery: Delivery) -> None:
    """Lot verdicts with their sampling plans, told in the history of every order the lot serves."""
    event = delivery.event
    if not isinstance(event, LotAccepted | LotRejected):
        return
    await keep_verdict(hctx.connection, event, delivery.event_id, delivery.recorded_at, delivery.metadata.actor)
    served = await orders_of_lot(hctx.connection, event.lot_id)
    if not served:
        return
    names = await msme_names(hctx.connection, [event.msme_id])
    summary = verdict_summary(
        accepted=isinstance(event, LotAccepted),
        lot=await lot_code(hctx.connection, event.lot_id) or str(event.lot_id),
        msme=names.get(event.msme_id, str(event.msme_id)),
        severity=event.severity,
        inspector_org=event.inspector_org,
        plans=event.plans,
        reasons=event.reasons,
    )
    event_type, _ = QUALITY.name_of(event)
    for order_id in sorted(served):
        await add_to_timeline(
            hctx.connection, order_id, delivery.event_id, service="quality", event_type=event_type, at=event.at,
            recorded_at=delivery.recorded_at, actor=delivery.metadata.actor, summary=summary,
        )  # fmt: skip


CATALOG_MIRROR = Subscription("catalog", source="catalog", codec=CATALOG, handle=keep_catalog)
POOLING_SAGA = Subscription("pooling", source="pooling", codec=POOLING, handle=follow_pooling)
QUALITY_VERDICTS = Subscription("quality", source="quality", codec=QUALITY, handle=keep_verdicts)
