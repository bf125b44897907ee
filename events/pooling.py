"""Pooling's events: pools, allocation requests, capacity ledgers, lots and consignments.

Capacity ledger streams are ``capacity:<product_id>:<YYYY-MM>``; their events carry the month's totals after
the change, so a consumer needs no history to know the committed capacity.
"""

from __future__ import annotations

from uuid import UUID

from events.base import Event, EventCodec


class CapacityCommitted(Event, frozen=True, kw_only=True, tag="pooling.CapacityCommitted.v1"):
    """Units of an MSME's product booked for a month by an accepted allocation request."""

    product_id: UUID
    msme_id: UUID
    month: str
    units: int
    committed: int
    request_id: UUID
    pool_id: UUID


class CapacityReleased(Event, frozen=True, kw_only=True, tag="pooling.CapacityReleased.v1"):
    """Booked units given back (cancellation, withdrawal, rejected lot not replaced)."""

    product_id: UUID
    msme_id: UUID
    month: str
    units: int
    committed: int
    request_id: UUID
    pool_id: UUID
    reason: str


PoolingEvent = CapacityCommitted | CapacityReleased
CODEC = EventCodec("pooling", PoolingEvent)
