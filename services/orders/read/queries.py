"""Reading orders and buyer organisations for their callers: only what each caller may see, else 404."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import asyncpg
import msgspec
import sqlalchemy as sa

from events.orders import Contact, OrderState
from services.orders.domain.access import can_see, can_see_order
from services.orders.domain.buyer import Buyer
from services.orders.domain.order import ORDER, Order, OrderEvent, order_stream
from services.orders.read.progress import progress_of
from services.orders.read.projections import decode_order
from services.orders.read.tables import buyers, orders
from services.orders.read.views import BuyerView, OrderSummary, OrderView, buyer_view, order_summary, order_view
from shared.auth import Principal, Role
from shared.eventstore import RecordedEvent
from shared.kernel.errors import NotFound
from shared.pages import BY_ID, Page
from shared.service import ServiceContext
from shared.sql import fetch, fetchrow

_contacts = msgspec.json.Decoder(list[Contact])
_users = msgspec.json.Decoder(list[str])


class OrderFilter(msgspec.Struct, frozen=True, kw_only=True):
    """Which orders a list shows, besides those its caller may see."""

    state: OrderState | None = None
    buyer: str | None = None
    required_from: date | None = None
    required_to: date | None = None


async def with_progress(db: asyncpg.Pool, order: Order, version: int, position: int = 0) -> OrderView:
    """The order as its callers see it: with each line's progress as orders knows it now."""
    assert order.order_id is not None
    return order_view(order, version, await progress_of(db, order.order_id), position)


async def list_orders(
    db: asyncpg.Pool, principal: Principal, filters: OrderFilter, limit: int, cursor: str | None
) -> Page[OrderSummary]:
    """Orders the caller may see, oldest first, filtered by state, buyer and required-by range."""
    query = sa.select(orders).order_by(orders.c.id).limit(limit + 1)
    if principal.role is Role.BUYER:
        query = query.where(orders.c.buyer_org == principal.org)
    elif principal.role is Role.AGGREGATOR:
        query = query.where(sa.or_(orders.c.aggregator_org == principal.org, orders.c.state == "requested"))
    if filters.state is not None:
        query = query.where(orders.c.state == filters.state)
    if filters.buyer is not None:
        query = query.where(orders.c.buyer_org == filters.buyer)
    if filters.required_from is not None:
        query = query.where(orders.c.required_by >= filters.required_from)
    if filters.required_to is not None:
        query = query.where(orders.c.required_by <= filters.required_to)
    after = BY_ID.decode(cursor)
    if after is not None:
        query = query.where(orders.c.id > after[0])
    rows = await fetch(db, query)
    return BY_ID.page(rows, limit, order_summary, lambda order: (order.id,))


async def visible_order(db: asyncpg.Pool, principal: Principal, order_id: UUID) -> tuple[Order, int]:
    """The order as projected and its version; 404 unless the caller may see it."""
    row = await fetchrow(db, sa.select(orders).where(orders.c.id == order_id))
    if row is None or not can_see(principal, row["buyer_org"], row["aggregator_org"], row["state"]):
        raise NotFound(f"no order {order_id}")
    return decode_order(row["document"]), row["version"]


async def find_order(db: asyncpg.Pool, principal: Principal, order_id: UUID) -> OrderView:
    """An order with each line's live progress; 404 unless the caller may see it."""
    order, version = await visible_order(db, principal, order_id)
    return await with_progress(db, order, version)


async def visible_events(
    ctx: ServiceContext, principal: Principal, order_id: UUID
) -> list[tuple[RecordedEvent, OrderEvent]]:
    """The order's events, read from its stream; 404 unless the caller can see the order as it is now."""
    records = await ctx.store.read_stream(order_stream(order_id))
    events: list[tuple[RecordedEvent, OrderEvent]] = [(r, ctx.store.decode(r)) for r in records]  # type: ignore[misc]
    order: Order = ORDER.fold(e for _, e in events)
    if not can_see_order(principal, order):
        raise NotFound(f"no order {order_id}")
    return events


async def find_buyer(db: asyncpg.Pool, principal: Principal, org: str) -> BuyerView:
    """A buyer organisation, to its own members and admins; 404 to anyone else."""
    row = await fetchrow(db, sa.select(buyers).where(buyers.c.org == org))
    if row is None or (row["org"] != principal.org and not principal.is_admin):
        raise NotFound(f"no buyer organisation {org}")
    buyer = Buyer(
        org=row["org"],
        name=row["name"],
        country=row["country"],
        contacts=tuple(_contacts.decode(row["contacts"])),
        users=tuple(_users.decode(row["users"])),
    )
    return buyer_view(buyer, row["version"])
