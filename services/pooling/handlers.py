"""Pooling's subscriptions: what it keeps of catalog and quality, the sagas on orders and lot verdicts, and the
answers MSMEs give through notifications."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from events.catalog import CODEC as CATALOG
from events.catalog import (
    CapacityDeclared,
    CertificationAdded,
    MsmeRegistered,
    MsmeUpdated,
    PlotRegistered,
    PlotWithdrawn,
    ProductListed,
    ProductUpdated,
)
from events.notifications import CODEC as NOTIFICATIONS
from events.orders import CODEC as ORDERS
from events.orders import BuyerRegistered, OrderCancelled, OrderConfirmed
from events.pooling import PoolOpened
from events.quality import CODEC as QUALITY
from events.quality import LotAccepted, LotRejected, MsmeDisqualified, MsmeQualityAssessed
from services.pooling.domain.order_demand import order_demand_stream
from services.pooling.domain.pool import POOL, pool_stream
from services.pooling.domain.pool_commands import PassLot, ReturnLot
from services.pooling.read.projections import POOLING_VIEWS, encode
from services.pooling.read.tables import (
    buyers,
    certifications,
    msmes,
    order_lines,
    orders,
    plots,
    pools,
    product_standards,
    products,
    quality_records,
)
from services.pooling.use_cases.allocation_requests import reallocate_later, withdraw
from services.pooling.use_cases.answers import settle
from services.pooling.use_cases.supply import (
    ConfirmedLine,
    Declaration,
    add_demand,
    cancel_order,
    record_capacity,
    record_unmatched,
)
from shared.decider import UnitOfWork, fold_stream, run_command
from shared.inbox import Delivery, HandlerContext, Subscription, batch_handlers
from shared.kernel.errors import GotongError, NotFound
from shared.mirrors import Upserts
from shared.projection import read_checkpoint
from shared.sql import execute, fetch, fetchrow

log = logging.getLogger("gotong.pooling")


async def _upsert(hctx: HandlerContext, table: sa.Table, keys: list[str], row: dict[str, object]) -> None:
    statement = insert(table).values(**row)
    update = {k: v for k, v in row.items() if k not in keys}
    await execute(hctx.connection, statement.on_conflict_do_update(index_elements=keys, set_=update))


async def keep_catalog(hctx: HandlerContext, deliveries: Sequence[Delivery]) -> None:
    """MSMEs (owner, place, status), products, certifications, plots: a batch's rows in one statement a table.
    Declared capacity enters its ledgers in one unit of work: a ledger reads its own stream, none of these rows."""
    rows = Upserts()
    declared: list[Declaration] = []
    for delivery in deliveries:
        event = delivery.event
        match event:
            case MsmeRegistered() | MsmeUpdated():
                row = {"msme_id": event.msme_id, "org": event.org, "name": event.name, "province": event.province}
                rows.upsert(msmes, ["msme_id"], row | {"city": event.city, "status": event.status})
            case ProductListed() | ProductUpdated():
                tiers = [(t.min_quantity, t.unit_price.amount) for t in event.price_tiers]
                row = {
                    "product_id": event.product_id,
                    "msme_id": event.msme_id,
                    "sku": event.sku,
                    "name": event.name,
                    "hs_code": event.hs_code,
                    "unit": event.unit,
                    "moq": event.moq,
                    "price_tiers": encode(tiers),
                    "currency": event.currency,
                    "lead_time_days": event.lead_time_days,
                    "net_mass_kg": event.net_mass_kg,
                }
                rows.upsert(products, ["product_id"], row)
                standards = [{"standard_id": s.standard_id, "version": s.version} for s in event.standards]
                rows.replace(product_standards, "product_id", event.product_id, standards)
            case CertificationAdded():
                row = {
                    "certification_id": event.certification_id,
                    "msme_id": event.msme_id,
                    "kind": event.kind,
                    "valid_from": event.valid_from,
                    "valid_until": event.valid_until,
                    "number": event.number,
                    "scope": None if event.scope is None else encode(event.scope),
                }
                rows.upsert(certifications, ["certification_id"], row)
            case PlotRegistered():
                row = {"plot_id": event.plot_id, "msme_id": event.msme_id, "commodity": event.commodity}
                rows.upsert(plots, ["plot_id"], row | {"withdrawn": False, "registered": encode(event)})
            case PlotWithdrawn():
                await rows.write(hctx.connection)  # the plot's row first, if this batch brought it
                await execute(
                    hctx.connection, plots.update().where(plots.c.plot_id == event.plot_id).values(withdrawn=True)
                )
            case CapacityDeclared():
                metadata = delivery.caused("pooling:capacity")
                declared.append(
                    Declaration(event.product_id, event.msme_id, event.month, event.units, event.at, metadata)
                )
    await rows.write(hctx.connection)
    await record_capacity(hctx.store, declared, connection=hctx.connection)


async def keep_quality(hctx: HandlerContext, delivery: Delivery) -> None:
    """Each MSME's record per standard; lot verdicts count toward the pool or re-open its demand."""
    event = delivery.event
    match event:
        case MsmeQualityAssessed():
            row = {
                "msme_id": event.msme_id,
                "standard_id": event.standard_id,
                "qualified": event.qualified,
                "disqualified": False,
                "probation_allowed": event.probation_allowed,
                "severity": event.severity,
                "discontinued": event.discontinued,
                "score": event.score,
            }
            statement = insert(quality_records).values(**row)
            update = {k: v for k, v in row.items() if k not in ("msme_id", "standard_id", "disqualified")}
            # a disqualification stands until the MSME qualifies again
            update["disqualified"] = sa.and_(quality_records.c.disqualified, sa.literal(not event.qualified))
            await execute(
                hctx.connection, statement.on_conflict_do_update(index_elements=["msme_id", "standard_id"], set_=update)
            )
        case MsmeDisqualified():
            row = {
                "msme_id": event.msme_id,
                "standard_id": event.standard_id,
                "qualified": False,
                "disqualified": True,
                "probation_allowed": False,
                "severity": "normal",
                "discontinued": False,
                "score": 0.0,
            }
            statement = insert(quality_records).values(**row)
            update = {"qualified": False, "disqualified": True}
            await execute(
                hctx.connection, statement.on_conflict_do_update(index_elements=["msme_id", "standard_id"], set_=update)
            )
            await _withdraw_requests(hctx, delivery, event)
        case LotAccepted():
            command = PassLot(event.lot_id, event.inspection_id, event.at, event.inspector_org)
            await _lot_verdict(hctx, delivery, event.pool_id, command)
        case LotRejected():
            reason = "; ".join(event.reasons) or "rejected at inspection"
            returned = ReturnLot(event.lot_id, event.inspection_id, reason, event.at, event.inspector_org)
            if await _lot_verdict(hctx, delivery, event.pool_id, returned):
                cause = f"lot of MSME {event.msme_id} rejected at inspection: {reason}"
                await reallocate_later(hctx.connection, event.pool_id, cause)


async def _withdraw_requests(hctx: HandlerContext, delivery: Delivery, event: MsmeDisqualified) -> None:
    """A disqualified MSME's unanswered requests in pools of the standard are withdrawn and re-allocated."""
    c = pools.c
    rows = await fetch(
        hctx.connection,
        sa.select(c.pool_id).where(c.standard_id == event.standard_id, c.status != "shipped").order_by(c.pool_id),
    )
    reason = f"MSME disqualified under the pool's standard: {event.reason}"
    metadata = delivery.caused("pooling:quality")
    for row in rows:
        state, _ = await fold_stream(hctx.store, POOL, pool_stream(row["pool_id"]), connection=hctx.connection)
        mine = sorted(rid for rid, pending in state.pending.items() if pending.msme_id == event.msme_id)
        for request_id in mine:
            await withdraw(hctx.store, request_id, reason, at=event.at, metadata=metadata, connection=hctx.connection)
        if mine:
            units = sum(state.pending[rid].quantity for rid in mine)
            cause = f"MSME {event.msme_id} was disqualified; its unanswered requests for {units} were withdrawn"
            await reallocate_later(hctx.connection, row["pool_id"], cause)


async def _lot_verdict(hctx: HandlerContext, delivery: Delivery, pool_id: UUID, command: PassLot | ReturnLot) -> bool:
    """Apply a verdict to the pool's lot; False when the pool or lot is not pooling's, or already settled."""
    stream = pool_stream(pool_id)
    try:
        outcome = await run_command(
            hctx.store,
            lambda unit: unit.execute(POOL, stream, command),
            metadata=delivery.caused("pooling:lot-verdicts"),
            connection=hctx.connection,
            lock_streams=[stream],
        )
    except NotFound:
        log.warning("lot verdict for unknown pool %s ignored", pool_id)
        return False
    return bool(outcome.value[1])


async def follow_orders(hctx: HandlerContext, delivery: Delivery) -> None:
    """A confirmed order's lines join matching open pools of the aggregator that quoted, or wait unmatched."""
    event = delivery.event
    match event:
        case BuyerRegistered():
            await _upsert(hctx, buyers, ["org"], {"org": event.org, "name": event.name, "country": event.country})
        case OrderConfirmed():
            terms = {
                "order_id": event.order_id,
                "buyer_org": event.buyer_org,
                "aggregator_org": event.aggregator_org,
                "incoterm": event.incoterm,
                "destination_country": event.destination_country,
                "destination_port": event.destination_port,
                "loading_port": event.loading_port,
                "lines": encode(event.lines),
            }
            await _upsert(hctx, orders, ["order_id"], terms)
            for line in event.lines:
                confirmed = ConfirmedLine(
                    order_id=event.order_id,
                    line_id=line.line_id,
                    aggregator_org=event.aggregator_org,
                    buyer_org=event.buyer_org,
                    hs_code=line.hs_code,
                    standard_id=line.standard_id,
                    standard_version=line.standard_version,
                    unit=line.unit,
                    quantity=line.quantity,
                    required_by=event.required_by,
                    confirmed_at=event.confirmed_at,
                )
                row = {k: getattr(confirmed, k) for k in confirmed.__dataclass_fields__} | {"cancelled": False}
                await execute(hctx.connection, insert(order_lines).values(**row).on_conflict_do_nothing())
                await _place(hctx, delivery, confirmed)
        case OrderCancelled():
            await execute(
                hctx.connection,
                order_lines.update().where(order_lines.c.order_id == event.order_id).values(cancelled=True),
            )
            await cancel_order(
                hctx.store, event.order_id, event.line_ids, f"order cancelled: {event.reason}",
                at=event.at, metadata=delivery.caused("pooling:orders"), connection=hctx.connection,
            )  # fmt: skip


async def _just_opened(hctx: HandlerContext, line: ConfirmedLine) -> list[tuple[datetime, UUID]]:
    """Pools of the line's spec opened so recently that the pools read model does not show them yet: the
    ``PoolOpened`` events after its projection's checkpoint (a short tail, read on the global-order index)."""
    checkpoint = await read_checkpoint(hctx.connection, hctx.store.schema, POOLING_VIEWS.checkpoint)
    records = await hctx.store.recorded_after(checkpoint, ["PoolOpened"], connection=hctx.connection)
    spec = (line.aggregator_org, line.hs_code, line.standard_id, line.standard_version, line.unit)
    found: list[tuple[datetime, UUID]] = []
    for record in records:
        opened = hctx.store.decode(record)
        if not isinstance(opened, PoolOpened):
            continue
        if (opened.aggregator_org, opened.hs_code, opened.standard_id, opened.standard_version, opened.unit) == spec:
            found.append((opened.at, opened.pool_id))
    return found


async def _place(hctx: HandlerContext, delivery: Delivery, line: ConfirmedLine) -> None:
    """Join the earliest open pool of the line's spec, or record the line as unmatched."""
    c = pools.c
    projected = await fetchrow(
        hctx.connection,
        sa.select(c.opened_at, c.pool_id)
        .where(
            c.aggregator_org == line.aggregator_org,
            c.hs_code == line.hs_code,
            c.standard_id == line.standard_id,
            c.standard_version == line.standard_version,
            c.unit == line.unit,
            c.status != "shipped",
        )
        .order_by(c.opened_at, c.pool_id)
        .limit(1),
    )
    candidates = [(projected["opened_at"], projected["pool_id"])] if projected else []
    candidates += await _just_opened(hctx, line)
    metadata = delivery.caused("pooling:orders")
    streams = [order_demand_stream(line.order_id)]
    if candidates:
        pool_id = min(candidates)[1]

        async def join(unit: UnitOfWork) -> None:
            await add_demand(unit, pool_id, line, by="pooling:orders", at=line.confirmed_at)

        try:
            await run_command(
                hctx.store, join, metadata=metadata, connection=hctx.connection,
                lock_streams=[*streams, pool_stream(pool_id)],
            )  # fmt: skip
            return
        except GotongError as refused:
            reason = f"could not join pool {pool_id}: {refused.detail}"
    else:
        reason = "no open pool of the aggregator has this HS code, standard version and unit"

    async def wait(unit: UnitOfWork) -> None:
        await record_unmatched(unit, line, reason, line.confirmed_at)

    await run_command(hctx.store, wait, metadata=metadata, connection=hctx.connection, lock_streams=streams)


CATALOG_MIRROR = Subscription("catalog", "catalog", CATALOG, *batch_handlers(keep_catalog))
QUALITY_MIRROR = Subscription("quality", source="quality", codec=QUALITY, handle=keep_quality)
ORDERS_SAGA = Subscription("orders", source="orders", codec=ORDERS, handle=follow_orders)
CHANNEL_ANSWERS = Subscription("channel-answers", source="notifications", codec=NOTIFICATIONS, handle=settle)
"""Answers MSMEs gave on WhatsApp or the phone page, run as their accept or decline."""
