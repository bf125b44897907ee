"""An order's state as its events leave it: the quote it holds, its cancellation, when it reached each state."""

from __future__ import annotations

from datetime import date, datetime
from typing import assert_never
from uuid import UUID

import msgspec

from events.orders import (
    Incoterm,
    OrderCancelled,
    OrderConfirmed,
    OrderDelivered,
    OrderInProduction,
    OrderInspected,
    OrderLine,
    OrderQuoted,
    OrderRequested,
    OrderShipped,
    OrderState,
    QuotedLine,
    QuoteExpired,
)
from shared.kernel.errors import Conflict

OrderEvent = (
    OrderRequested
    | OrderQuoted
    | QuoteExpired
    | OrderConfirmed
    | OrderCancelled
    | OrderInProduction
    | OrderInspected
    | OrderShipped
    | OrderDelivered
)


def order_stream(order_id: UUID) -> str:
    return f"order-{order_id}"


class Quote(msgspec.Struct, frozen=True, kw_only=True):
    number: int
    aggregator_org: str
    lines: tuple[QuotedLine, ...]
    lead_time_days: int
    valid_until: datetime
    quoted_by: str
    quoted_at: datetime

    def price_of(self, line_id: UUID) -> QuotedLine:
        return next(line for line in self.lines if line.line_id == line_id)


class Cancellation(msgspec.Struct, frozen=True, kw_only=True):
    reason: str
    previous_state: OrderState
    production_started: bool
    consequences: tuple[str, ...]
    cancelled_by: str
    at: datetime


class Order(msgspec.Struct, frozen=True, kw_only=True):
    """An order as its events left it; ``state`` is None until it is requested."""

    order_id: UUID | None = None
    buyer_org: str = ""
    state: OrderState | None = None
    lines: tuple[OrderLine, ...] = ()
    incoterm: Incoterm = "EXW"
    destination_country: str = ""
    destination_port: str | None = None
    loading_port: str | None = None
    required_by: date | None = None
    notes: str = ""
    requested_by: str = ""
    quote: Quote | None = None
    lapsed_quote: Quote | None = None
    quotes_made: int = 0
    confirmed_by: str | None = None
    consignment_id: UUID | None = None
    delivered_by: str | None = None
    cancellation: Cancellation | None = None
    milestones: dict[str, datetime] = msgspec.field(default_factory=dict)
    """When the order reached each state it has been in."""

    @property
    def aggregator_org(self) -> str | None:
        return self.quote.aggregator_org if self.quote else None


LIFECYCLE: tuple[OrderState, ...] = (
    "requested",
    "quoted",
    "confirmed",
    "in_production",
    "inspected",
    "shipped",
    "delivered",
)


def evolve(order: Order, event: OrderEvent) -> Order:
    replace = msgspec.structs.replace
    match event:
        case OrderRequested():
            return Order(
                order_id=event.order_id,
                buyer_org=event.buyer_org,
                state="requested",
                lines=tuple(event.lines),
                incoterm=event.incoterm,
                destination_country=event.destination_country,
                destination_port=event.destination_port,
                loading_port=event.loading_port,
                required_by=event.required_by,
                notes=event.notes,
                requested_by=event.requested_by,
                milestones={"requested": event.at},
            )
        case OrderQuoted():
            quote = Quote(
                number=event.quote_number,
                aggregator_org=event.aggregator_org,
                lines=tuple(event.lines),
                lead_time_days=event.lead_time_days,
                valid_until=event.valid_until,
                quoted_by=event.quoted_by,
                quoted_at=event.at,
            )
            return _reach(
                replace(order, quote=quote, lapsed_quote=None, quotes_made=event.quote_number), "quoted", event.at
            )
        case QuoteExpired():
            # Open for quotes again; the time it was first requested stays its "requested" milestone.
            return replace(order, state="requested", quote=None, lapsed_quote=order.quote)
        case OrderConfirmed():
            return _reach(replace(order, confirmed_by=event.confirmed_by), "confirmed", event.confirmed_at)
        case OrderCancelled():
            cancellation = Cancellation(
                reason=event.reason,
                previous_state=event.previous_state,
                production_started=event.production_started,
                consequences=tuple(event.consequences),
                cancelled_by=event.cancelled_by,
                at=event.at,
            )
            return _reach(replace(order, cancellation=cancellation), "cancelled", event.at)
        case OrderInProduction():
            return _reach(order, "in_production", event.at)
        case OrderInspected():
            return _reach(order, "inspected", event.at)
        case OrderShipped():
            return _reach(replace(order, consignment_id=event.consignment_id), "shipped", event.at)
        case OrderDelivered():
            return _reach(replace(order, delivered_by=event.delivered_by), "delivered", event.at)
        case _:
            assert_never(event)


def _reach(order: Order, state: OrderState, at: datetime) -> Order:
    return msgspec.structs.replace(order, state=state, milestones={**order.milestones, state: at})


def order_id(order: Order) -> UUID:
    """The id of an order that was requested."""
    assert order.order_id is not None
    return order.order_id


def illegal(state: Order, action: str) -> Conflict:
    current = state.state or "not requested"
    return Conflict(
        f"cannot {action}: the order is {current.replace('_', ' ')}", problem="illegal-transition", state=current
    )
