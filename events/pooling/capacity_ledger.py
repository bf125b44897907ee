"""A capacity ledger's events (stream ``capacity:<product_id>:<YYYY-MM>``), carrying the month's totals
after the change."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from events.base import Event


class CapacityRecorded(Event, frozen=True, kw_only=True, tag="pooling.CapacityRecorded.v1"):
    """Catalog's declared capacity entered the ledger; ``overcommitted`` is booked beyond it (re-allocated)."""

    product_id: UUID
    msme_id: UUID
    month: str
    declared: int
    committed: int
    overcommitted: int
    at: datetime


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
