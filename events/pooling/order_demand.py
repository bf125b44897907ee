"""Where confirmed order lines went (stream ``order-demand-<order_id>``): which pool each line joined, or
that none matched."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from events.base import Event


class DemandUnmatched(Event, frozen=True, kw_only=True, tag="pooling.DemandUnmatched.v1"):
    """A confirmed line found no open pool of its aggregator with the same HS code, standard version and unit."""

    order_id: UUID
    line_id: UUID
    aggregator_org: str
    buyer_org: str
    hs_code: str
    standard_id: UUID
    standard_version: int
    unit: str
    quantity: int
    required_by: date
    confirmed_at: datetime
    reason: str
    at: datetime


class DemandPooled(Event, frozen=True, kw_only=True, tag="pooling.DemandPooled.v1"):
    """An order line is now served by this pool (a line joins one pool only)."""

    order_id: UUID
    line_id: UUID
    pool_id: UUID
    at: datetime


class DemandCancelled(Event, frozen=True, kw_only=True, tag="pooling.DemandCancelled.v1"):
    """The order was cancelled: its lines leave their pools and unmatched demand."""

    order_id: UUID
    line_ids: list[UUID]
    reason: str
    at: datetime
