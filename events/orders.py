"""Orders' events: buyer organisations and the lifecycle of their bulk orders.

Order streams are ``order-<order_id>``, buyer organisation streams ``buyer-<org>``. Events that other services
rely on (``OrderConfirmed``, ``OrderCancelled``) carry full state, so a consumer needs no history.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

import msgspec

from events.base import Event, EventCodec
from events.common import Money

Incoterm = Literal["EXW", "FCA", "CPT", "CIP", "DAP", "DPU", "DDP", "FAS", "FOB", "CFR", "CIF"]
OrderState = Literal[
    "requested", "quoted", "confirmed", "in_production", "inspected", "shipped", "delivered", "cancelled"
]


class Contact(msgspec.Struct, frozen=True, kw_only=True):
    """A person at a buyer organisation to reach about its orders."""

    name: str
    email: str
    phone: str | None = None
    title: str | None = None


class OrderLine(msgspec.Struct, frozen=True, kw_only=True):
    """One product an order asks for: its spec, the standard it must meet, how many and at what target price."""

    line_id: UUID
    hs_code: str
    category: str
    description: str
    attributes: dict[str, str] = msgspec.field(default_factory=dict)
    standard_id: UUID
    standard_version: int
    quantity: int
    unit: str
    target_unit_price: Money


class ConfirmedLine(OrderLine, frozen=True, kw_only=True):
    """An order line as the buyer confirmed it, with the unit price the aggregator quoted."""

    quoted_unit_price: Money


class QuotedLine(msgspec.Struct, frozen=True, kw_only=True):
    line_id: UUID
    unit_price: Money


class BuyerRegistered(Event, frozen=True, kw_only=True, tag="orders.BuyerRegistered.v1"):
    """A foreign buyer organisation joined Gotong; ``org`` is its organisation id in tokens."""

    org: str
    name: str
    country: str
    contacts: list[Contact]
    users: list[str]
    registered_by: str
    at: datetime


class OrderRequested(Event, frozen=True, kw_only=True, tag="orders.OrderRequested.v1"):
    """A buyer asked for quotes on a bulk order."""

    order_id: UUID
    buyer_org: str
    lines: list[OrderLine]
    incoterm: Incoterm
    destination_country: str
    destination_port: str | None = None
    loading_port: str | None = None
    required_by: date
    notes: str = ""
    requested_by: str
    at: datetime


class OrderQuoted(Event, frozen=True, kw_only=True, tag="orders.OrderQuoted.v1"):
    """An aggregator quoted every line of an order; a later quote supersedes this one."""

    order_id: UUID
    buyer_org: str
    aggregator_org: str
    quote_number: int
    lines: list[QuotedLine]
    lead_time_days: int
    valid_until: datetime
    quoted_by: str
    at: datetime


class QuoteExpired(Event, frozen=True, kw_only=True, tag="orders.QuoteExpired.v1"):
    """A quote passed its validity unconfirmed; the order is open for quotes again."""

    order_id: UUID
    buyer_org: str
    aggregator_org: str
    quote_number: int
    valid_until: datetime
    at: datetime


class OrderConfirmed(Event, frozen=True, kw_only=True, tag="orders.OrderConfirmed.v1"):
    """The buyer accepted the quote: everything pooling needs to open demand for each line."""

    order_id: UUID
    buyer_org: str
    aggregator_org: str
    quote_number: int
    lines: list[ConfirmedLine]
    incoterm: Incoterm
    destination_country: str
    destination_port: str | None = None
    loading_port: str | None = None
    required_by: date
    lead_time_days: int
    notes: str = ""
    confirmed_by: str
    confirmed_at: datetime


class OrderCancelled(Event, frozen=True, kw_only=True, tag="orders.OrderCancelled.v1"):
    """The buyer (or an admin) cancelled; ``consequences`` says what cancelling at this stage sets off."""

    order_id: UUID
    buyer_org: str
    aggregator_org: str | None = None
    previous_state: OrderState
    line_ids: list[UUID]
    reason: str
    production_started: bool
    consequences: list[str]
    cancelled_by: str
    at: datetime


class OrderInProduction(Event, frozen=True, kw_only=True, tag="orders.OrderInProduction.v1"):
    """Accepted allocations cover every line of the order."""

    order_id: UUID
    buyer_org: str
    aggregator_org: str
    at: datetime


class OrderInspected(Event, frozen=True, kw_only=True, tag="orders.OrderInspected.v1"):
    """Lots that passed inspection cover every line of the order."""

    order_id: UUID
    buyer_org: str
    aggregator_org: str
    at: datetime


class OrderShipped(Event, frozen=True, kw_only=True, tag="orders.OrderShipped.v1"):
    """The consolidated consignment carrying the order left."""

    order_id: UUID
    buyer_org: str
    aggregator_org: str
    consignment_id: UUID | None = None
    at: datetime


class OrderDelivered(Event, frozen=True, kw_only=True, tag="orders.OrderDelivered.v1"):
    """The buyer (or an admin) confirmed the goods arrived."""

    order_id: UUID
    buyer_org: str
    aggregator_org: str
    delivered_by: str
    at: datetime


OrdersEvent = (
    BuyerRegistered
    | OrderRequested
    | OrderQuoted
    | QuoteExpired
    | OrderConfirmed
    | OrderCancelled
    | OrderInProduction
    | OrderInspected
    | OrderShipped
    | OrderDelivered
)
CODEC = EventCodec("orders", OrdersEvent)
