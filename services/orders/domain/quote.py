"""Quotes on an order: one quoting aggregator at a time, who may re-quote until the buyer confirms or the
quote lapses; a lapsed quote re-opens the order to every aggregator. Pure: deciders for quote, confirm, expire.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import msgspec

from events.orders import ConfirmedLine, OrderConfirmed, OrderQuoted, QuoteExpired
from services.orders.domain.order_commands import ConfirmOrder, ExpireQuote, QuoteOrder
from services.orders.domain.order_rules import quote_errors
from services.orders.domain.order_state import Order, OrderEvent, Quote, illegal, order_id
from shared.kernel.errors import Conflict, InvalidInput


def _open_for_quotes(order: Order, at: datetime) -> bool:
    return order.state == "requested" or (
        order.state == "quoted" and order.quote is not None and at >= order.quote.valid_until
    )


def quote(command: QuoteOrder, order: Order) -> Sequence[OrderEvent]:
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
            order_id=order_id(order),
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


def confirm(command: ConfirmOrder, order: Order) -> Sequence[OrderEvent]:
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
            order_id=order_id(order),
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


def expire(command: ExpireQuote, order: Order) -> Sequence[OrderEvent]:
    """Lapse the quote ``command`` names once its validity ended; anything settled since makes it a no-op."""
    quote = order.quote
    if order.state != "quoted" or quote is None or quote.number != command.quote_number:
        return []
    if command.at < quote.valid_until:
        return []
    return [
        QuoteExpired(
            order_id=order_id(order),
            buyer_org=order.buyer_org,
            aggregator_org=quote.aggregator_org,
            quote_number=command.quote_number,
            valid_until=quote.valid_until,
            at=command.at,
        )
    ]
