"""The order decider: a bulk order from request through quote and confirmation to delivery, or cancellation.

One quoting aggregator at a time: the first aggregator to quote an open order holds it and may re-quote
(each quote supersedes the last) until the buyer confirms or the quote lapses; a lapsed quote re-opens
the order to every aggregator.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import assert_never

from events.orders import (
    OrderCancelled,
    OrderDelivered,
    OrderInProduction,
    OrderInspected,
    OrderRequested,
    OrderShipped,
    OrderState,
)
from services.orders.domain.order_commands import (
    CancelOrder,
    ConfirmOrder,
    ExpireQuote,
    MarkDelivered,
    MarkInspected,
    MarkShipped,
    OrderCommand,
    QuoteOrder,
    RequestOrder,
    StartProduction,
)
from services.orders.domain.order_rules import order_errors
from services.orders.domain.order_state import (
    LIFECYCLE,
    Cancellation,
    Order,
    OrderEvent,
    Quote,
    evolve,
    illegal,
    order_id,
    order_stream,
)
from services.orders.domain.quote import confirm, expire, quote
from shared.kernel.decider import Decider
from shared.kernel.errors import Conflict, InvalidInput

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


def decide(command: OrderCommand, order: Order) -> Sequence[OrderEvent]:
    match command:
        case RequestOrder():
            return _request(command, order)
        case QuoteOrder():
            return quote(command, order)
        case ConfirmOrder():
            return confirm(command, order)
        case ExpireQuote():
            return expire(command, order)
        case CancelOrder():
            return _cancel(command, order)
        case StartProduction(at=at):
            if _reached(order, "in_production"):
                return []
            if order.state != "confirmed":
                raise illegal(order, "start production")
            return [
                OrderInProduction(
                    order_id=order_id(order), buyer_org=order.buyer_org, aggregator_org=_agg(order), at=at
                )
            ]
        case MarkInspected(at=at):
            if _reached(order, "inspected"):
                return []
            if order.state != "in_production":
                raise illegal(order, "mark the order inspected")
            return [
                OrderInspected(order_id=order_id(order), buyer_org=order.buyer_org, aggregator_org=_agg(order), at=at)
            ]
        case MarkShipped(at=at, consignment_id=consignment_id):
            if _reached(order, "shipped"):
                return []
            if order.state != "inspected":
                raise illegal(order, "ship the order")
            return [
                OrderShipped(
                    order_id=order_id(order),
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
                    order_id=order_id(order),
                    buyer_org=order.buyer_org,
                    aggregator_org=_agg(order),
                    delivered_by=by,
                    at=at,
                )
            ]
        case _:
            assert_never(command)


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


def _cancel(command: CancelOrder, order: Order) -> Sequence[OrderEvent]:
    if order.state not in _CANCELLABLE:
        raise illegal(order, "cancel")
    if not command.reason.strip():
        raise InvalidInput.of("reason", "say why the order is cancelled")
    assert order.state is not None
    return [
        OrderCancelled(
            order_id=order_id(order),
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


ORDER = Decider[OrderCommand, Order, OrderEvent]("order", Order(), decide, evolve)

__all__ = [
    "LIFECYCLE",
    "ORDER",
    "CancelOrder",
    "Cancellation",
    "ConfirmOrder",
    "ExpireQuote",
    "MarkDelivered",
    "MarkInspected",
    "MarkShipped",
    "Order",
    "OrderCommand",
    "OrderEvent",
    "Quote",
    "QuoteOrder",
    "RequestOrder",
    "StartProduction",
    "decide",
    "evolve",
    "illegal",
    "order_stream",
]
