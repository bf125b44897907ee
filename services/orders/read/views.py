"""What the orders API returns: orders, their lines with progress, summaries for lists, buyer organisations."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from uuid import UUID

import msgspec

from events.common import Money
from events.orders import Contact, Incoterm, OrderState
from services.orders.domain.buyer import Buyer
from services.orders.domain.line_progress import NO_PROGRESS, LineProgress
from services.orders.domain.order import Cancellation, Order
from services.orders.read.projections import decode_order


class LineView(msgspec.Struct, frozen=True, kw_only=True):
    line_id: UUID
    hs_code: str
    category: str
    description: str
    attributes: dict[str, str]
    standard_id: UUID
    standard_version: int
    quantity: int
    unit: str
    target_unit_price: Money
    quoted_unit_price: Money | None
    progress: LineProgress


class QuoteView(msgspec.Struct, frozen=True, kw_only=True):
    number: int
    aggregator_org: str
    lead_time_days: int
    valid_until: datetime
    quoted_by: str
    quoted_at: datetime


class OrderView(msgspec.Struct, frozen=True, kw_only=True):
    """An order's full state; ``version`` is its stream version, ``position`` where a command left the store."""

    id: UUID
    buyer_org: str
    aggregator_org: str | None
    state: OrderState
    lines: list[LineView]
    incoterm: Incoterm
    destination_country: str
    destination_port: str | None
    loading_port: str | None
    required_by: date
    notes: str
    requested_by: str
    quote: QuoteView | None
    lapsed_quote: QuoteView | None
    milestones: dict[str, datetime]
    cancellation: Cancellation | None
    consignment_id: UUID | None
    version: int
    position: int = 0


class OrderSummary(msgspec.Struct, frozen=True, kw_only=True):
    """An order as a list shows it."""

    id: UUID
    buyer_org: str
    aggregator_org: str | None
    state: OrderState
    lines: int
    incoterm: Incoterm
    destination_country: str
    required_by: date
    requested_at: datetime
    version: int


class BuyerView(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    country: str
    contacts: list[Contact]
    users: list[str]
    version: int
    position: int = 0


class HistoryItem(msgspec.Struct, frozen=True, kw_only=True):
    """One thing that happened to an order, in words; ``service`` says whose event it was.

    ``version`` is the order's version after its own events, and null for other services' events.
    """

    at: datetime
    actor: str | None
    event: str
    summary: str
    version: int | None
    service: str = "orders"


class OrderHistory(msgspec.Struct, frozen=True):
    items: list[HistoryItem]


def _quote_view(order: Order, lapsed: bool = False) -> QuoteView | None:
    quote = order.lapsed_quote if lapsed else order.quote
    if quote is None:
        return None
    return QuoteView(
        number=quote.number,
        aggregator_org=quote.aggregator_org,
        lead_time_days=quote.lead_time_days,
        valid_until=quote.valid_until,
        quoted_by=quote.quoted_by,
        quoted_at=quote.quoted_at,
    )


def order_view(
    order: Order, version: int, progress: Mapping[UUID, LineProgress] | None = None, position: int = 0
) -> OrderView:
    assert order.order_id is not None and order.state is not None and order.required_by is not None
    progress = progress or {}
    quoted = {q.line_id: q.unit_price for q in order.quote.lines} if order.quote else {}
    return OrderView(
        id=order.order_id,
        buyer_org=order.buyer_org,
        aggregator_org=order.aggregator_org,
        state=order.state,
        lines=[
            LineView(
                line_id=line.line_id,
                hs_code=line.hs_code,
                category=line.category,
                description=line.description,
                attributes=line.attributes,
                standard_id=line.standard_id,
                standard_version=line.standard_version,
                quantity=line.quantity,
                unit=line.unit,
                target_unit_price=line.target_unit_price,
                quoted_unit_price=quoted.get(line.line_id),
                progress=progress.get(line.line_id, NO_PROGRESS),
            )
            for line in order.lines
        ],
        incoterm=order.incoterm,
        destination_country=order.destination_country,
        destination_port=order.destination_port,
        loading_port=order.loading_port,
        required_by=order.required_by,
        notes=order.notes,
        requested_by=order.requested_by,
        quote=_quote_view(order),
        lapsed_quote=_quote_view(order, lapsed=True),
        milestones=order.milestones,
        cancellation=order.cancellation,
        consignment_id=order.consignment_id,
        version=version,
        position=position,
    )


def buyer_view(buyer: Buyer, version: int, position: int = 0) -> BuyerView:
    return BuyerView(
        id=buyer.org,
        name=buyer.name,
        country=buyer.country,
        contacts=list(buyer.contacts),
        users=list(buyer.users),
        version=version,
        position=position,
    )


def order_summary(row: Any) -> OrderSummary:
    """An order as a list shows it, from its row in ``orders``."""
    order = decode_order(row["document"])
    return OrderSummary(
        id=row["id"],
        buyer_org=row["buyer_org"],
        aggregator_org=row["aggregator_org"],
        state=row["state"],
        lines=len(order.lines),
        incoterm=order.incoterm,
        destination_country=order.destination_country,
        required_by=row["required_by"],
        requested_at=row["requested_at"],
        version=row["version"],
    )
