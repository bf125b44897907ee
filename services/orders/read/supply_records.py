"""Writing what orders keeps of catalog, pooling and quality (``read.tables``), in the handler's transaction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from events.catalog import CertificationAdded, MsmeRegistered, MsmeUpdated, ProductListed, ProductUpdated
from events.pooling import ConsignmentShipped, LotPassed, LotReceived, LotReturned
from events.quality import LotAccepted, LotRejected
from services.orders.read.tables import (
    certifications,
    consignments,
    lot_inspections,
    lot_lines,
    lots,
    msmes,
    order_timeline,
    product_versions,
)
from shared.eventstore import Connection
from shared.inbox import Delivery
from shared.mirrors import Upserts
from shared.sql import execute, fetch


def _json(value: object) -> str:
    return msgspec.json.encode(value).decode()


def keep_catalog(rows: Upserts, delivery: Delivery) -> None:
    """MSMEs, their certifications and each listing or update of their products (with origin plots), for
    provenance."""
    event = delivery.event
    match event:
        case MsmeRegistered() | MsmeUpdated():
            row = {"msme_id": event.msme_id, "org": event.org, "name": event.name, "nib": event.nib}
            state = {"province": event.province, "city": event.city, "status": event.status}
            rows.upsert(msmes, ["msme_id"], row | state | {"version": delivery.stream_version}, unless_newer="version")
        case CertificationAdded():
            row = {
                "certification_id": event.certification_id,
                "msme_id": event.msme_id,
                "kind": event.kind,
                "name": event.name,
                "number": event.number,
                "issuer": event.issuer,
                "valid_from": event.valid_from,
                "valid_until": event.valid_until,
            }
            rows.upsert(certifications, ["certification_id"], row)
        case ProductListed() | ProductUpdated():
            row = {
                "product_id": event.product_id,
                "version": delivery.stream_version,
                "msme_id": event.msme_id,
                "sku": event.sku,
                "name": event.name,
                "hs_code": event.hs_code,
                "eudr_commodity": event.eudr_commodity,
                "origin_plots": _json(event.origin_plots),
                "valid_from": event.at,
            }
            rows.upsert(product_versions, ["product_id", "version"], row, update=False)


async def _by_id(
    connection: Connection | asyncpg.Pool, key: sa.Column[UUID], value: sa.Column[str], ids: Iterable[UUID]
) -> dict[UUID, str]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = await fetch(connection, sa.select(key.label("key"), value.label("value")).where(key.in_(wanted)))
    return {row["key"]: row["value"] for row in rows}


async def msme_names(connection: Connection | asyncpg.Pool, ids: Iterable[UUID]) -> dict[UUID, str]:
    """The names of the MSMEs catalog told of, by id (one not heard of yet is absent)."""
    return await _by_id(connection, msmes.c.msme_id, msmes.c.name, ids)


async def add_to_timeline(
    connection: Connection,
    order_id: UUID,
    event_id: UUID,
    *,
    service: str,
    event_type: str,
    schema_version: int,
    data: str,
    at: datetime,
    recorded_at: datetime,
    actor: str | None,
) -> None:
    """Keep the event (its JSON) in the order's history; it is told in words when the history is read."""
    row = {
        "order_id": order_id,
        "event_id": event_id,
        "service": service,
        "event_type": event_type,
        "schema_version": schema_version,
        "data": data,
        "at": at,
        "recorded_at": recorded_at,
        "actor": actor,
    }
    await execute(connection, insert(order_timeline).values(**row).on_conflict_do_nothing())


async def keep_lot(connection: Connection, event: LotReceived | LotPassed | LotReturned | ConsignmentShipped) -> None:
    """Lots with the order lines they serve, their fate at inspection, and the consignment they left in."""
    match event:
        case LotReceived():
            row = {
                "lot_id": event.lot_id,
                "pool_id": event.pool_id,
                "msme_id": event.msme_id,
                "product_id": event.product_id,
                "lot_code": event.lot_code,
                "quantity": event.quantity,
                "unit": event.unit,
                "standard_id": event.standard_id,
                "standard_version": event.standard_version,
                "delivered_on": event.delivered_on,
                "received_at": event.at,
                "status": "received",
            }
            await execute(connection, insert(lots).values(**row).on_conflict_do_nothing())
            for line in event.lines:
                values = {"lot_id": event.lot_id, "line_id": line.line_id, "order_id": line.order_id}
                await execute(
                    connection, insert(lot_lines).values(**values, quantity=line.quantity).on_conflict_do_nothing()
                )
        case LotPassed() | LotReturned():
            status = "passed" if isinstance(event, LotPassed) else "returned"
            decided = lots.update().where(lots.c.lot_id == event.lot_id)
            await execute(connection, decided.values(status=status, decided_by=event.inspection_id))
        case ConsignmentShipped():
            row = {
                "consignment_id": event.consignment_id,
                "pool_id": event.pool_id,
                "aggregator_org": event.aggregator_org,
                "quantity": event.quantity,
                "partial": event.partial,
                "consent_reference": event.consent_reference,
                "shipped_by": event.shipped_by,
                "shipped_at": event.at,
            }
            await execute(connection, insert(consignments).values(**row).on_conflict_do_nothing())
            shipped = [lot.lot_id for lot in event.lots]
            await execute(
                connection, lots.update().where(lots.c.lot_id.in_(shipped)).values(consignment_id=event.consignment_id)
            )


async def keep_verdict(
    connection: Connection,
    event: LotAccepted | LotRejected,
    event_id: UUID,
    recorded_at: datetime,
    actor: str | None,
) -> None:
    row = {
        "inspection_id": event.inspection_id,
        "event_id": event_id,
        "lot_id": event.lot_id,
        "pool_id": event.pool_id,
        "msme_id": event.msme_id,
        "standard_id": event.standard_id,
        "standard_version": event.standard_version,
        "accepted": isinstance(event, LotAccepted),
        "lot_size": event.lot_size,
        "resubmitted": event.resubmitted,
        "severity": event.severity,
        "plans": _json(event.plans),
        "verdicts": _json(event.verdicts),
        "reasons": _json(event.reasons),
        "inspector_org": event.inspector_org,
        "recorded_by": event.recorded_by,
        "at": event.at,
        "recorded_at": recorded_at,
        "actor": actor,
    }
    await execute(connection, insert(lot_inspections).values(**row).on_conflict_do_nothing())


async def lot_codes(connection: Connection | asyncpg.Pool, ids: Iterable[UUID]) -> dict[UUID, str]:
    """The codes of the lots pooling told of, by lot id (a lot not heard of yet is absent)."""
    return await _by_id(connection, lots.c.lot_id, lots.c.lot_code, ids)
