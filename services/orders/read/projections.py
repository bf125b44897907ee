"""Orders' read models: buyer organisations, orders with who owns and who quoted them, and per-line progress."""

from __future__ import annotations

from typing import cast

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, insert

from events.base import Event
from events.orders import BuyerRegistered, OrderRequested
from services.orders.domain.order import ORDER, Order, OrderEvent
from shared.eventstore import Connection, RecordedEvent
from shared.migrations import Migration, tables_ddl
from shared.projection import Projection, Tables
from shared.sql import execute, fetchrow

metadata = sa.MetaData(schema="orders")

buyers = sa.Table(
    "buyers",
    metadata,
    sa.Column("org", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("country", sa.Text, nullable=False),
    sa.Column("contacts", JSONB, nullable=False),
    sa.Column("users", JSONB, nullable=False),
    sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
)

orders = sa.Table(
    "orders",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("buyer_org", sa.Text, nullable=False),
    sa.Column("aggregator_org", sa.Text),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("required_by", sa.Date, nullable=False),
    sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("document", JSONB, nullable=False),
    sa.Index("orders_by_buyer", "buyer_org", "id"),
    sa.Index("orders_by_aggregator", "aggregator_org", "id"),
    sa.Index("orders_by_state", "state", "id"),
)
"""One row per order; ``document`` is the order's full state, ``buyer_org``/``aggregator_org`` the ownership map."""

order_lines_progress = sa.Table(
    "order_lines_progress",
    metadata,
    sa.Column("order_id", sa.Uuid, primary_key=True),
    sa.Column("line_id", sa.Uuid, primary_key=True),
    sa.Column("allocated", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("accepted", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("delivered", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("passed", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("shipped", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("updated_at", sa.DateTime(timezone=True)),
    sa.Column("accepted_since", sa.DateTime(timezone=True)),
    sa.Column("passed_since", sa.DateTime(timezone=True)),
    sa.Column("shipped_since", sa.DateTime(timezone=True)),
)
"""Per-line progress, fed by pooling's and quality's events (see ``services.orders.read.progress``).

``<measure>_since`` is when the measure last reached the line's demand (null while below it), by the time of
the pool's event, so an order's milestones are dated by its lines' own times, not by when orders heard of them.
"""

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
MIGRATIONS = [
    Migration("0001_read_models", lambda schema: tables_ddl(metadata)),
]
LINE_COVERAGE_TIMES = Migration(
    "0005_line_coverage_times",
    lambda schema: [
        f"ALTER TABLE {order_lines_progress.schema}.order_lines_progress "
        f"ADD COLUMN IF NOT EXISTS {measure}_since timestamptz"
        for measure in ("accepted", "passed", "shipped")
    ],
)
