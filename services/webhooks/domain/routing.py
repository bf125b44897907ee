"""Who is told of an event, under which type, and what of it they see.

Ownership comes from the events themselves. Orders' events name the buyer and (once quoted) the aggregator.
Pooling's events name their pool, request or order lines; the owners are learnt from the first event of the
same stream, which always comes first: ``PoolOpened`` names the pool's aggregator, ``AllocationRequested`` the
request's, and ``DemandAdded`` (or ``DemandUnmatched``) the buyer of the order whose line it is.

An aggregator sees a pool's event whole. A buyer is told of a pool's event as ``order.line_progress`` when it
names the buyer's own order lines, and sees only those lines in ``lines`` and ``progress``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal
from uuid import UUID

import msgspec

from events.base import Event
from events.pooling import AllocationRequested, DemandAdded, DemandUnmatched, LineProgress, LineQuantity, PoolOpened
from events.webhooks import Audience, type_for

LINE_PROGRESS = "order.line_progress"

OwnedKind = Literal["pool", "request", "order"]


@dataclass(frozen=True)
class Owner:
    """A fact an event tells: ``org`` owns the pool or request (its aggregator) or the order (its buyer)."""

    kind: OwnedKind
    id: UUID
    org: str


@dataclass(frozen=True)
class Known:
    """What has been learnt of owners, for the ids an event names."""

    pools: Mapping[UUID, str] = field(default_factory=dict)
    requests: Mapping[UUID, str] = field(default_factory=dict)
    buyers: Mapping[UUID, str] = field(default_factory=dict)
    """Order → buyer organisation."""


@dataclass(frozen=True)
class Recipient:
    """One organisation to tell of an event: as which audience, under which public type, with what data."""

    org: str
    audience: Audience
    event_type: str
    data: Event


def owners_told(event: Event) -> list[Owner]:
    """The owners an event makes known (to be remembered before later events of its stream arrive)."""
    match event:
        case PoolOpened():
            return [Owner("pool", event.pool_id, event.aggregator_org)]
        case AllocationRequested():
            return [Owner("request", event.request_id, event.aggregator_org)]
        case DemandAdded():
            return [Owner("pool", event.pool_id, event.aggregator_org), Owner("order", event.order_id, event.buyer_org)]
        case DemandUnmatched():
            return [Owner("order", event.order_id, event.buyer_org)]
    return []


def _id(event: Event, name: str) -> UUID | None:
    value = getattr(event, name, None)
    return value if isinstance(value, UUID) else None


def _lines(event: Event, name: str) -> list[LineQuantity | LineProgress]:
    """The order lines (pooling's ``lines`` or ``progress``) an event names; an order's own lines are not these."""
    return [line for line in getattr(event, name, None) or () if isinstance(line, LineQuantity | LineProgress)]


def orders_named(event: Event) -> set[UUID]:
    """The orders an event is about: its own ``order_id`` and those of the pool's lines it names."""
    named = {order for order in [_id(event, "order_id")] if order is not None}
    for name in ("lines", "progress"):
        named.update(line.order_id for line in _lines(event, name))
    return named


def lookups(event: Event) -> tuple[set[UUID], set[UUID], set[UUID]]:
    """The (pools, requests, orders) whose owners ``recipients`` needs for ``event``."""
    pool, request = _id(event, "pool_id"), _id(event, "request_id")
    return ({pool} if pool else set(), {request} if request else set(), orders_named(event))


def _aggregator(event: Event, known: Known) -> str | None:
    named = getattr(event, "aggregator_org", None)
    if isinstance(named, str) and named:
        return named
    pool, request = _id(event, "pool_id"), _id(event, "request_id")
    return (known.pools.get(pool) if pool else None) or (known.requests.get(request) if request else None)


def _buyer(event: Event) -> str | None:
    named = getattr(event, "buyer_org", None)
    return named if isinstance(named, str) and named else None


def only_orders(event: Event, orders: set[UUID]) -> Event:
    """``event`` with its ``lines`` and ``progress`` cut down to the lines of ``orders``."""
    changes = {
        name: [line for line in _lines(event, name) if line.order_id in orders]
        for name in ("lines", "progress")
        if hasattr(event, name)
    }
    return msgspec.structs.replace(event, **changes) if changes else event


def recipients(event: Event, known: Known) -> list[Recipient]:
    """Everyone to tell of ``event``: its aggregator and buyer as the event names them (orders' events), the
    pool's or request's aggregator, and the buyers of the order lines a pool's event names."""
    found: list[Recipient] = []
    for_aggregators = type_for(type(event), "aggregator")
    aggregator = _aggregator(event, known) if for_aggregators else None
    if for_aggregators and aggregator:
        found.append(Recipient(aggregator, "aggregator", for_aggregators.name, event))
    for_buyers = type_for(type(event), "buyer")
    if for_buyers is None:
        return found
    buyer = _buyer(event)
    if for_buyers.name != LINE_PROGRESS:  # an order's own event (or a notice) names its buyer
        if buyer is not None:
            found.append(Recipient(buyer, "buyer", for_buyers.name, event))
        return found
    by_buyer: dict[str, set[UUID]] = {}
    own = _id(event, "order_id")
    for order in sorted(orders_named(event)):
        owner = buyer if order == own and buyer else known.buyers.get(order)
        if owner is not None:
            by_buyer.setdefault(owner, set()).add(order)
    for org, orders in sorted(by_buyer.items()):
        found.append(Recipient(org, "buyer", for_buyers.name, only_orders(event, orders)))
    return found
