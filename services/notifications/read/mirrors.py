"""What notifications keeps of other services' events: MSMEs, products, capacity, pools, requests and lots.

Events of different streams (a pool's, a request's, quality's verdicts) arrive in no fixed order between
subscriptions, so every write is an upsert that fills only the columns its event knows.
"""

from __future__ import annotations

from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from events.base import Event
from events.catalog import CapacityDeclared, MsmeRegistered, MsmeUpdated, ProductListed, ProductUpdated
from events.pooling import (
    AllocationAccepted,
    AllocationDeclined,
    AllocationExpired,
    AllocationReleased,
    AllocationRequested,
    AllocationWithdrawn,
    CapacityCommitted,
    CapacityRecorded,
    CapacityReleased,
    LotReceived,
    PoolOpened,
)
from events.quality import LotAccepted, LotRejected
from services.notifications.read.tables import capacity, lots, msmes, pools, products, requests
from shared.eventstore import Connection
from shared.mirrors import Upserts
from shared.sql import execute


def _json(value: object) -> str:
    return msgspec.json.encode(value).decode()


async def _upsert(connection: Connection, table: sa.Table, keys: list[str], row: dict[str, Any]) -> None:
    update = {k: v for k, v in row.items() if k not in keys}
    statement = insert(table).values(**row)
    await execute(connection, statement.on_conflict_do_update(index_elements=keys, set_=update))


def keep_catalog(rows: Upserts, event: Event) -> None:
    match event:
        case MsmeRegistered():
            row = {"msme_id": event.msme_id, "org": event.org, "registered_by": event.registered_by}
            rows.upsert(msmes, ["msme_id"], row | _place(event))
        case MsmeUpdated():
            rows.upsert(msmes, ["msme_id"], {"msme_id": event.msme_id, "org": event.org} | _place(event))
        case ProductListed() | ProductUpdated():
            row = {"product_id": event.product_id, "msme_id": event.msme_id, "name": event.name}
            rows.upsert(products, ["product_id"], row | {"unit": event.unit, "hs_code": event.hs_code})
        case CapacityDeclared():
            row = {"product_id": event.product_id, "month": event.month, "units": event.units}
            rows.upsert(capacity, ["product_id", "month"], row)


def _place(event: MsmeRegistered | MsmeUpdated) -> dict[str, Any]:
    return {"name": event.name, "province": event.province, "city": event.city}


def keep_capacity(rows: Upserts, event: Event) -> bool:
    """A ledger event's capacity row (what is declared, only from a declaration, and committed); False for any
    other event."""
    match event:
        case CapacityRecorded():
            month = {"product_id": event.product_id, "month": event.month}
            rows.upsert(
                capacity, ["product_id", "month"], month | {"units": event.declared, "committed": event.committed}
            )
        case CapacityCommitted() | CapacityReleased():
            month = {"product_id": event.product_id, "month": event.month}
            rows.upsert(capacity, ["product_id", "month"], month | {"committed": event.committed}, new={"units": 0})
        case _:
            return False
    return True


async def keep_pooling(connection: Connection, event: Event) -> None:
    """What notifications keeps of pooling's events other than its ledgers' (``keep_capacity``)."""
    match event:
        case PoolOpened():
            row = {"pool_id": event.pool_id, "aggregator_org": event.aggregator_org, "name": event.name}
            await _upsert(connection, pools, ["pool_id"], row | {"consolidation_point": event.consolidation_point})
        case AllocationRequested():
            row = {
                "request_id": event.request_id,
                "pool_id": event.pool_id,
                "proposal_id": event.proposal_id,
                "msme_id": event.msme_id,
                "product_id": event.product_id,
                "quantity": event.quantity,
                "unit": event.unit,
                "plan": _json(event.plan),
                "unit_price": _json(event.unit_price),
                "expires_at": event.expires_at,
                "status": "pending",
                "accepted": 0,
                "requested_at": event.at,
                "updated_at": event.at,
            }
            await execute(connection, insert(requests).values(**row).on_conflict_do_nothing())
        case AllocationAccepted():
            await _request(connection, event.request_id, status="accepted", accepted=event.quantity, at=event.at)
        case AllocationDeclined():
            await _request(connection, event.request_id, status="declined", at=event.at)
        case AllocationExpired():
            await _request(connection, event.request_id, status="expired", at=event.at)
        case AllocationWithdrawn():
            await _request(connection, event.request_id, status="withdrawn", at=event.at)
        case AllocationReleased():
            await _request(connection, event.request_id, accepted=event.remaining, at=event.at)
        case LotReceived():
            row = {
                "lot_id": event.lot_id,
                "pool_id": event.pool_id,
                "msme_id": event.msme_id,
                "product_id": event.product_id,
                "lot_code": event.lot_code,
                "quantity": event.quantity,
                "delivered_on": event.delivered_on,
            }
            await _upsert(connection, lots, ["lot_id"], row)


async def _request(connection: Connection, request_id: object, *, at: object, **values: object) -> None:
    await execute(
        connection, requests.update().where(requests.c.request_id == request_id).values(updated_at=at, **values)
    )


async def keep_quality(connection: Connection, event: Event) -> None:
    match event:
        case LotAccepted() | LotRejected():
            verdict = "accepted" if isinstance(event, LotAccepted) else "rejected"
            row = {"lot_id": event.lot_id, "pool_id": event.pool_id, "msme_id": event.msme_id}
            judged = {"verdict": verdict, "reasons": _json(event.reasons), "judged_at": event.at}
            statement = insert(lots).values(**row, quantity=event.lot_size, **judged)
            await execute(connection, statement.on_conflict_do_update(index_elements=["lot_id"], set_=judged))
