"""What can be asked of an order; each command carries who asks and when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from events.orders import Incoterm, OrderLine, QuotedLine


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
