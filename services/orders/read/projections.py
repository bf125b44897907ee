"""Orders' read models: buyer organisations, orders with who owns and who quoted them, and per-line progress."""

from __future__ import annotations

from typing import cast

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from events.base import Event
from events.orders import BuyerRegistered, OrderRequested
from services.orders.domain.order import ORDER, Order, OrderEvent
from services.orders.read.tables import buyers, orders
from shared.eventstore import Connection, RecordedEvent
from shared.projection import Projection, Tables
from shared.sql import execute, fetchrow

_order_state = msgspec.json.Decoder(Order)


def encode_order(order: Order) -> str:
    return msgspec.json.encode(order).decode()


def decode_order(document: str) -> Order:
    return _order_state.decode(document)


async def project(connection: Connection, tables: Tables, event: Event, record: RecordedEvent) -> None:
    match event:
        case BuyerRegistered():
            table = tables["buyers"]
            await execute(
                connection,
                insert(table)
                .values(
                    org=event.org,
                    name=event.name,
                    country=event.country,
                    contacts=msgspec.json.encode(event.contacts).decode(),
                    users=msgspec.json.encode(event.users).decode(),
                    registered_at=event.at,
                    version=record.stream_version,
                )
                .on_conflict_do_nothing(),
            )
        case OrderRequested():
            order = ORDER.evolve(ORDER.initial_state, event)
            table = tables["orders"]
            await execute(
                connection,
                insert(table)
                .values(
                    id=event.order_id,
                    buyer_org=event.buyer_org,
                    state="requested",
                    required_by=event.required_by,
                    requested_at=event.at,
                    updated_at=record.recorded_at,
                    version=record.stream_version,
                    document=encode_order(order),
                )
                .on_conflict_do_nothing(),
            )
        case _ if record.stream_type == ORDER.stream_type:
            await _advance(connection, tables["orders"], cast(OrderEvent, event), record)


async def _advance(connection: Connection, table: sa.Table, event: OrderEvent, record: RecordedEvent) -> None:
    row = await fetchrow(
        connection,
        sa.select(table.c.id, table.c.version, table.c.document.cast(sa.Text).label("document")).where(
            table.c.id == event.order_id
        ),
    )
    if row is None or row["version"] >= record.stream_version:
        return
    order = ORDER.evolve(decode_order(row["document"]), event)
    await execute(
        connection,
        table.update()
        .where(table.c.id == row["id"])
        .values(
            state=order.state,
            aggregator_org=order.aggregator_org,
            updated_at=record.recorded_at,
            version=record.stream_version,
            document=encode_order(order),
        ),
    )


ORDERS_PROJECTION = Projection("orders", [buyers, orders], project)
