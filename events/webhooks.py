"""Webhooks' events, and the public list of what a webhook can be told.

One stream per subscription, ``webhook-<subscription_id>``. Events carry the subscription's whole state (URL,
event types, enabled), never its signing secret: secrets stay in the webhooks service's own table and are
shown once, to whoever made or rotated them.

``EVENT_TYPES`` is the public contract of outbound webhooks: each type's name (``order.confirmed``), who can
receive it (buyers, aggregators) and which event structs it carries. A message is
``{"type": "order.confirmed", "timestamp": ..., "data": <the event>}``, ``data`` being the struct's JSON with its
own ``type`` tag (``orders.OrderConfirmed.v1``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

import msgspec

from events import orders, pooling
from events.base import Event, EventCodec

Audience = Literal["buyer", "aggregator"]
"""Who subscribes: a buyer organisation (told of its orders) or an aggregator (its pools, the orders it quoted)."""


class SubscriptionCreated(Event, frozen=True, kw_only=True, tag="webhooks.SubscriptionCreated.v1"):
    """An organisation subscribed a URL to event types; the secret was shown to ``created_by`` alone."""

    subscription_id: UUID
    org: str
    audience: Audience
    url: str
    event_types: list[str]
    description: str = ""
    enabled: bool = True
    created_by: str
    at: datetime


class SubscriptionChanged(Event, frozen=True, kw_only=True, tag="webhooks.SubscriptionChanged.v1"):
    """The subscription as it is now: URL, event types, description, and whether it is enabled."""

    subscription_id: UUID
    org: str
    audience: Audience
    url: str
    event_types: list[str]
    description: str = ""
    enabled: bool
    changed_by: str
    at: datetime


class SubscriptionDeleted(Event, frozen=True, kw_only=True, tag="webhooks.SubscriptionDeleted.v1"):
    subscription_id: UUID
    org: str
    deleted_by: str
    at: datetime


class SecretRotated(Event, frozen=True, kw_only=True, tag="webhooks.SecretRotated.v1"):
    """A new signing secret (number ``secret_version``); the one before it signs too until ``previous_valid_until``."""

    subscription_id: UUID
    org: str
    secret_version: int
    previous_valid_until: datetime
    rotated_by: str
    at: datetime


class WebhookDisabled(Event, frozen=True, kw_only=True, tag="webhooks.WebhookDisabled.v1"):
    """Gotong stopped sending to the subscription's URL after a streak of failures; an update re-enables it."""

    subscription_id: UUID
    org: str
    url: str
    reason: str
    consecutive_failures: int
    failing_since: datetime
    last_error: str
    at: datetime


class WebhookPinged(Event, frozen=True, kw_only=True, tag="webhooks.WebhookPinged.v1"):
    """A test message was asked for: it goes to the subscription's URL whatever event types it has."""

    subscription_id: UUID
    org: str
    pinged_by: str
    at: datetime


WebhooksEvent = (
    SubscriptionCreated | SubscriptionChanged | SubscriptionDeleted | SecretRotated | WebhookDisabled | WebhookPinged
)
CODEC = EventCodec("webhooks", WebhooksEvent)


class Message(msgspec.Struct, frozen=True, kw_only=True):
    """What a webhook's body holds: the public type, when the event was recorded, and the event itself."""

    type: str
    timestamp: datetime
    data: Any


@dataclass(frozen=True)
class EventType:
    """One kind of message a subscription can ask for."""

    name: str
    description: str
    audiences: frozenset[Audience]
    events: tuple[type[Event], ...]


BOTH: frozenset[Audience] = frozenset({"buyer", "aggregator"})
BUYERS: frozenset[Audience] = frozenset({"buyer"})
AGGREGATORS: frozenset[Audience] = frozenset({"aggregator"})
PING = "webhook.ping"

EVENT_TYPES: tuple[EventType, ...] = (
    EventType("order.requested", "the buyer asked for quotes on an order", BUYERS, (orders.OrderRequested,)),
    EventType("order.quoted", "an aggregator quoted the order", BOTH, (orders.OrderQuoted,)),
    EventType("order.quote_expired", "a quote lapsed unconfirmed", BOTH, (orders.QuoteExpired,)),
    EventType("order.confirmed", "the buyer confirmed the quote", BOTH, (orders.OrderConfirmed,)),
    EventType("order.in_production", "accepted supply covers every line", BOTH, (orders.OrderInProduction,)),
    EventType("order.inspected", "lots that passed inspection cover every line", BOTH, (orders.OrderInspected,)),
    EventType("order.shipped", "the consignment carrying the order left", BOTH, (orders.OrderShipped,)),
    EventType("order.delivered", "the goods arrived", BOTH, (orders.OrderDelivered,)),
    EventType("order.cancelled", "the order was cancelled", BOTH, (orders.OrderCancelled,)),
    EventType(
        "order.line_progress",
        "a pool's event changed the totals of the buyer's order lines (only the buyer's own lines are sent)",
        BUYERS,
        (
            pooling.DemandAdded,
            pooling.DemandRemoved,
            pooling.SupplyBooked,
            pooling.SupplyReleased,
            pooling.LotReceived,
            pooling.LotPassed,
            pooling.LotReturned,
            pooling.PoolFilled,
            pooling.ConsignmentShipped,
        ),
    ),
    EventType(
        "demand.unmatched",
        "a confirmed line found no open pool of the aggregator",
        AGGREGATORS,
        (pooling.DemandUnmatched,),
    ),
    EventType("pool.demand_added", "an order line joined the pool", AGGREGATORS, (pooling.DemandAdded,)),
    EventType("pool.demand_removed", "an order line left the pool", AGGREGATORS, (pooling.DemandRemoved,)),
    EventType(
        "proposal.ready",
        "the allocation engine proposed who makes how many",
        AGGREGATORS,
        (pooling.AllocationProposed,),
    ),
    EventType("request.sent", "an MSME was asked for supply", AGGREGATORS, (pooling.AllocationRequested,)),
    EventType(
        "request.accepted", "an MSME accepted a request (all or part)", AGGREGATORS, (pooling.AllocationAccepted,)
    ),
    EventType("request.declined", "an MSME declined a request", AGGREGATORS, (pooling.AllocationDeclined,)),
    EventType("request.expired", "a request expired unanswered", AGGREGATORS, (pooling.AllocationExpired,)),
    EventType("request.released", "booked supply was given back", AGGREGATORS, (pooling.AllocationReleased,)),
    EventType("lot.received", "an MSME's lot arrived at the consolidation point", AGGREGATORS, (pooling.LotReceived,)),
    EventType("lot.passed", "quality accepted a lot", AGGREGATORS, (pooling.LotPassed,)),
    EventType("lot.returned", "quality rejected a lot; it goes back to its MSME", AGGREGATORS, (pooling.LotReturned,)),
    EventType("pool.filled", "passed lots cover the pool's whole demand", AGGREGATORS, (pooling.PoolFilled,)),
    EventType("pool.shipped", "the pool's consignment left", AGGREGATORS, (pooling.ConsignmentShipped,)),
    EventType(
        "webhook.disabled",
        "another of the organisation's subscriptions was disabled after failing",
        BOTH,
        (WebhookDisabled,),
    ),
    EventType(
        PING,
        "a test message asked for with the ping route (sent whatever the subscription's types)",
        BOTH,
        (WebhookPinged,),
    ),
)
BY_NAME: dict[str, EventType] = {t.name: t for t in EVENT_TYPES}


def type_for(event_class: type[Event], audience: Audience) -> EventType | None:
    """The one public type under which ``audience`` is told of events of ``event_class``, if any."""
    for event_type in EVENT_TYPES:
        if audience in event_type.audiences and event_class in event_type.events:
            return event_type
    return None
