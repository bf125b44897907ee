"""The order decider: a bulk order from request through quote and confirmation to delivery, or cancellation.

One quoting aggregator at a time: the first aggregator to quote an open order holds it and may re-quote
(each quote supersedes the last) until the buyer confirms or the quote lapses; a lapsed quote re-opens
the order to every aggregator.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import assert_never
from uuid import UUID

import msgspec

from events.orders import (
    ConfirmedLine,
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
from services.orders.rules import order_errors, quote_errors
from shared.decider import Decider
from shared.errors import Conflict, InvalidInput

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


@dataclass(frozen=True)
class RequestOrder:
    order_id: UUID
    buyer_org: str
    lines: tuple[OrderLine, ...]
    incoterm: Incoterm
    destination_country: str
    destination_port: str | None
    loading_port: str | None
    required_by: date
    notes: str
    requested_by: str
    at: datetime


@dataclass(frozen=True)
class QuoteOrder:
    aggregator_org: str
    prices: tuple[QuotedLine, ...]
    lead_time_days: int
    valid_until: datetime
    quoted_by: str
    at: datetime


@dataclass(frozen=True)
class ConfirmOrder:
    confirmed_by: str
    at: datetime
    quote_number: int | None = None
    """The quote the buyer saw; confirming refuses if a newer one superseded it."""


@dataclass(frozen=True)
class ExpireQuote:
    """Fired when a quote's validity ends; does nothing if the quote was confirmed or superseded."""

    quote_number: int
    at: datetime


@dataclass(frozen=True)
class CancelOrder:
    reason: str
    cancelled_by: str
    at: datetime


@dataclass(frozen=True)
class StartProduction:
    at: datetime


@dataclass(frozen=True)
class MarkInspected:
    at: datetime


@dataclass(frozen=True)
class MarkShipped:
    at: datetime
    consignment_id: UUID | None = None


@dataclass(frozen=True)
class MarkDelivered:
    delivered_by: str
    at: datetime


OrderCommand = (
    RequestOrder
    | QuoteOrder
    | ConfirmOrder
    | ExpireQuote
    | CancelOrder
    | StartProduction
    | MarkInspected
    | MarkShipped
    | MarkDelivered
)

LIFECYCLE: tuple[OrderState, ...] = (
    "requested",
    "quoted",
    "confirmed",
    "in_production",
    "inspected",
    "shipped",
    "delivered",
)
_CANCELLABLE = frozenset({"requested", "quoted", "confirmed", "in_production", "inspected"})
_CONSEQUENCES: dict[str, tuple[str, ...]] = {
    "requested": (),
    "quoted": ("the aggregator's quote is withdrawn",),
    "confirmed": ("open demand is withdrawn from pooling",),
    "in_production": (
        "open demand is withdrawn from pooling",
        "allocations released",
        "committed MSME capacity released",
        "MSMEs may already have produced goods for this order",
    ),
    "inspected": (
        "open demand is withdrawn from pooling",
        "allocations released",
        "committed MSME capacity released",
        "lots that passed inspection stay with the aggregator unshipped",
    ),
}


def illegal(state: Order, action: str) -> Conflict:
    current = state.state or "not requested"
    return Conflict(
        f"cannot {action}: the order is {current.replace('_', ' ')}", problem="illegal-transition", state=current
    )


def decide(command: OrderCommand, order: Order) -> Sequence[OrderEvent]:
    match command:
        case RequestOrder():
            return _request(command, order)
        case QuoteOrder():
            return _quote(command, order)
        case ConfirmOrder():
            return _confirm(command, order)
        case ExpireQuote(quote_number=number, at=at):
            quote = order.quote
            if order.state != "quoted" or quote is None or quote.number != number or at < quote.valid_until:
                return []
            return [
                QuoteExpired(
                    order_id=_id(order),
                    buyer_org=order.buyer_org,
                    aggregator_org=quote.aggregator_org,
                    quote_number=number,
                    valid_until=quote.valid_until,
                    at=at,
                )
            ]
        case CancelOrder():
            return _cancel(command, order)
        case StartProduction(at=at):
            if _reached(order, "in_production"):
                return []
            if order.state != "confirmed":
                raise illegal(order, "start production")
            return [
                OrderInProduction(order_id=_id(order), buyer_org=order.buyer_org, aggregator_org=_agg(order), at=at)
            ]
        case MarkInspected(at=at):
            if _reached(order, "inspected"):
                return []
            if order.state != "in_production":
                raise illegal(order, "mark the order inspected")
            return [OrderInspected(order_id=_id(order), buyer_org=order.buyer_org, aggregator_org=_agg(order), at=at)]
        case MarkShipped(at=at, consignment_id=consignment_id):
            if _reached(order, "shipped"):
                return []
            if order.state != "inspected":
                raise illegal(order, "ship the order")
            return [
                OrderShipped(
                    order_id=_id(order),
                    buyer_org=order.buyer_org,
                    aggregator_org=_agg(order),
                    consignment_id=consignment_id,
                    at=at,
                )
            ]
        case MarkDelivered(delivered_by=by, at=at):
            if order.state == "delivered":
                return []
            if order.state != "shipped":
                raise illegal(order, "confirm delivery")
            return [
                OrderDelivered(
                    order_id=_id(order), buyer_org=order.buyer_org, aggregator_org=_agg(order), delivered_by=by, at=at
                )
            ]
        case _:
            assert_never(command)


def _id(order: Order) -> UUID:
    assert order.order_id is not None
    return order.order_id


def _agg(order: Order) -> str:
    return order.aggregator_org or ""


def _reached(order: Order, target: OrderState) -> bool:
    """Already at or past ``target`` on the way to delivery (a repeated saga command is settled)."""
    return order.state in LIFECYCLE and LIFECYCLE.index(order.state) >= LIFECYCLE.index(target)


def _request(command: RequestOrder, order: Order) -> Sequence[OrderEvent]:
    requested = OrderRequested(
        order_id=command.order_id,
        buyer_org=command.buyer_org,
        lines=list(command.lines),
        incoterm=command.incoterm,
        destination_country=command.destination_country,
        destination_port=command.destination_port,
        loading_port=command.loading_port,
        required_by=command.required_by,
        notes=command.notes,
        requested_by=command.requested_by,
        at=command.at,
    )
    if order.state is not None:
        if _same_request(order, requested):
            return []
        raise Conflict(f"order {command.order_id} already exists", problem="order-exists", state=order.state)
    errors = order_errors(
        lines=command.lines,
        incoterm=command.incoterm,
        destination_country=command.destination_country,
        destination_port=command.destination_port,
        loading_port=command.loading_port,
        required_by=command.required_by,
        notes=command.notes,
        today=command.at.date(),
    )
    if errors:
        raise InvalidInput(errors)
    return [requested]


def _same_request(order: Order, requested: OrderRequested) -> bool:
    """A repeat of the request that created the order (a retried create) changes nothing."""
    return (
        order.order_id == requested.order_id
        and order.buyer_org == requested.buyer_org
        and list(order.lines) == requested.lines
        and order.incoterm == requested.incoterm
        and order.destination_country == requested.destination_country
        and order.destination_port == requested.destination_port
        and order.loading_port == requested.loading_port
        and order.required_by == requested.required_by
        and order.notes == requested.notes
    )


def _open_for_quotes(order: Order, at: datetime) -> bool:
    return order.state == "requested" or (
        order.state == "quoted" and order.quote is not None and at >= order.quote.valid_until
    )


def _quote(command: QuoteOrder, order: Order) -> Sequence[OrderEvent]:
    holder = order.aggregator_org
    if not _open_for_quotes(order, command.at):
        if order.state != "quoted":
            raise illegal(order, "quote")
        if holder != command.aggregator_org:
            raise Conflict(
                "another aggregator's quote on this order is still valid",
                problem="quoted-by-another-aggregator",
                state=order.state,
            )
    errors = quote_errors(
        [line.line_id for line in order.lines], command.prices, command.lead_time_days, command.valid_until, command.at
    )
    if errors:
        raise InvalidInput(errors)
    return [
        OrderQuoted(
            order_id=_id(order),
            buyer_org=order.buyer_org,
            aggregator_org=command.aggregator_org,
            quote_number=order.quotes_made + 1,
            lines=list(command.prices),
            lead_time_days=command.lead_time_days,
            valid_until=command.valid_until,
            quoted_by=command.quoted_by,
            at=command.at,
        )
    ]


def _confirm(command: ConfirmOrder, order: Order) -> Sequence[OrderEvent]:
    quote = order.quote
    if order.state == "requested" and order.lapsed_quote is not None:
        lapsed = order.lapsed_quote
        raise _expired(order, lapsed)
    if order.state != "quoted" or quote is None:
        raise illegal(order, "confirm")
    if command.at >= quote.valid_until:
        raise _expired(order, quote)
    if command.quote_number is not None and command.quote_number != quote.number:
        raise Conflict(
            f"quote {command.quote_number} was superseded by quote {quote.number}; review it and confirm that one",
            problem="quote-superseded",
            state=order.state,
            quote_number=quote.number,
        )
    lines = [
        ConfirmedLine(**msgspec.structs.asdict(line), quoted_unit_price=quote.price_of(line.line_id).unit_price)
        for line in order.lines
    ]
    return [
        OrderConfirmed(
            order_id=_id(order),
            buyer_org=order.buyer_org,
            aggregator_org=quote.aggregator_org,
            quote_number=quote.number,
            lines=lines,
            incoterm=order.incoterm,
            destination_country=order.destination_country,
            destination_port=order.destination_port,
            loading_port=order.loading_port,
            required_by=_required_by(order),
            lead_time_days=quote.lead_time_days,
            notes=order.notes,
            confirmed_by=command.confirmed_by,
            confirmed_at=command.at,
        )
    ]


def _required_by(order: Order) -> date:
    assert order.required_by is not None
    return order.required_by


def _expired(order: Order, quote: Quote) -> Conflict:
    return Conflict(
        f"quote {quote.number} expired at {quote.valid_until.isoformat()}; ask for a new quote",
        problem="quote-expired",
        state=order.state or "not requested",
        valid_until=quote.valid_until.isoformat(),
    )


def _cancel(command: CancelOrder, order: Order) -> Sequence[OrderEvent]:
    if order.state not in _CANCELLABLE:
        raise illegal(order, "cancel")
    if not command.reason.strip():
        raise InvalidInput.of("reason", "say why the order is cancelled")
    assert order.state is not None
    return [
        OrderCancelled(
            order_id=_id(order),
            buyer_org=order.buyer_org,
            aggregator_org=order.aggregator_org,
            previous_state=order.state,
            line_ids=[line.line_id for line in order.lines],
            reason=command.reason,
            production_started=order.state in ("in_production", "inspected"),
            consequences=list(_CONSEQUENCES[order.state]),
            cancelled_by=command.cancelled_by,
            at=command.at,
        )
    ]


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


ORDER = Decider[OrderCommand, Order, OrderEvent]("order", Order(), decide, evolve)
