"""An order's events told as sentences a buyer can read: when, who, what."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import assert_never

from events.common import Money
from events.orders import (
    OrderCancelled,
    OrderConfirmed,
    OrderDelivered,
    OrderInProduction,
    OrderInspected,
    OrderQuoted,
    OrderRequested,
    OrderShipped,
    QuoteExpired,
)
from services.orders.domain.order import OrderEvent


def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


def _lines(count: int) -> str:
    return f"{count} line" if count == 1 else f"{count} lines"


def _total(prices: list[tuple[int, Money]]) -> str:
    """The order's value by currency, e.g. ``USD 72,250.00``."""
    totals: dict[str, Decimal] = {}
    for quantity, price in prices:
        totals[price.currency] = totals.get(price.currency, Decimal(0)) + quantity * price.amount
    return " + ".join(f"{currency} {amount:,.2f}" for currency, amount in sorted(totals.items()))


def happened_at(event: OrderEvent) -> datetime:
    return event.confirmed_at if isinstance(event, OrderConfirmed) else event.at


def summarise(event: OrderEvent) -> str:
    match event:
        case OrderRequested():
            port = f" ({event.destination_port})" if event.destination_port else ""
            return (
                f"Requested {_lines(len(event.lines))} by buyer {event.buyer_org}, {event.incoterm} to "
                f"{event.destination_country}{port}, required by {event.required_by.isoformat()}"
            )
        case OrderQuoted():
            return (
                f"Quoted {_lines(len(event.lines))} by aggregator {event.aggregator_org} (quote {event.quote_number}), "
                f"lead time {event.lead_time_days} days, valid until {_when(event.valid_until)}"
            )
        case QuoteExpired():
            return (
                f"Quote {event.quote_number} by aggregator {event.aggregator_org} expired unconfirmed at "
                f"{_when(event.valid_until)}; the order is open for quotes again"
            )
        case OrderConfirmed():
            value = _total([(line.quantity, line.quoted_unit_price) for line in event.lines])
            return (
                f"Confirmed quote {event.quote_number} of aggregator {event.aggregator_org}: "
                f"{_lines(len(event.lines))} worth {value}"
            )
        case OrderCancelled():
            sentence = f"Cancelled while {event.previous_state.replace('_', ' ')}: {event.reason}"
            if event.consequences:
                sentence += f" (consequences: {'; '.join(event.consequences)})"
            return sentence
        case OrderInProduction():
            return f"In production: accepted allocations of aggregator {event.aggregator_org} cover every line"
        case OrderInspected():
            return "Inspected: lots that passed inspection cover every line"
        case OrderShipped():
            consignment = f" in consignment {event.consignment_id}" if event.consignment_id else ""
            return f"Shipped by aggregator {event.aggregator_org}{consignment}"
        case OrderDelivered():
            return f"Delivered, confirmed by {event.delivered_by}"
        case _:
            assert_never(event)
