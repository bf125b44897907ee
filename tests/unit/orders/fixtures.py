"""Orders in the marketplace's words: a Rotterdam buyer's rattan baskets, quoted by a Cirebon aggregator."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from uuid import UUID

from events.common import Money
from events.orders import OrderLine, QuotedLine
from services.orders.domain.order import ORDER, Order, OrderCommand, OrderEvent, QuoteOrder, RequestOrder

NOW = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)
ORDER_ID = UUID("01900000-0000-7000-8000-000000000001")
BASKETS = UUID("01900000-0000-7000-8000-0000000000b1")
TRAYS = UUID("01900000-0000-7000-8000-0000000000b2")
STANDARD = UUID("01900000-0000-7000-8000-0000000000c1")
BUYER = "rotterdam-home"
AGGREGATOR = "cirebon-rattan"


def usd(amount: str) -> Money:
    return Money(amount=Decimal(amount), currency="USD")


def line(line_id: UUID = BASKETS, **changes: object) -> OrderLine:
    fields: dict[str, object] = {
        "line_id": line_id,
        "hs_code": "460212",
        "category": "rattan baskets",
        "description": "round rattan basket, 30 cm",
        "attributes": {"colour": "natural"},
        "standard_id": STANDARD,
        "standard_version": 2,
        "quantity": 20_000,
        "unit": "PCE",
        "target_unit_price": usd("3.20"),
    }
    fields.update(changes)
    return OrderLine(**fields)  # type: ignore[arg-type]


def request(**changes: object) -> RequestOrder:
    fields: dict[str, object] = {
        "order_id": ORDER_ID,
        "buyer_org": BUYER,
        "lines": (line(BASKETS), line(TRAYS, hs_code="46021900", description="rattan tray", quantity=5_000)),
        "incoterm": "FOB",
        "destination_country": "NL",
        "destination_port": "NLRTM",
        "loading_port": None,
        "required_by": date(2027, 3, 31),
        "notes": "",
        "requested_by": "buyer:ana",
        "at": NOW,
    }
    fields.update(changes)
    return RequestOrder(**fields)  # type: ignore[arg-type]


def quote(aggregator: str = AGGREGATOR, at: datetime = NOW, valid_for: timedelta = timedelta(days=7)) -> QuoteOrder:
    return QuoteOrder(
        aggregator_org=aggregator,
        prices=(QuotedLine(line_id=BASKETS, unit_price=usd("3.10")), QuotedLine(line_id=TRAYS, unit_price=usd("2.05"))),
        lead_time_days=45,
        valid_until=at + valid_for,
        quoted_by=f"aggregator:{aggregator}-sales",
        at=at,
    )


def history(*commands: OrderCommand) -> list[OrderEvent]:
    """The events that running ``commands`` in turn on a new order produces."""
    events: list[OrderEvent] = []
    for command in commands:
        events.extend(ORDER.decide(command, ORDER.fold(events)))
    return events


def state(given: Sequence[OrderEvent]) -> Order:
    return ORDER.fold(given)
