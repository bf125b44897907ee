"""An allocation request's events (stream ``allocation-request-<request_id>``): one request to one MSME."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from events.base import Event
from events.common import Money
from events.pooling.values import LineQuantity, MonthQuantity


class AllocationRequested(Event, frozen=True, kw_only=True, tag="pooling.AllocationRequested.v1"):
    """An MSME is asked to make ``quantity`` units by month of ``plan`` before ``expires_at``."""

    request_id: UUID
    pool_id: UUID
    aggregator_org: str
    proposal_id: UUID
    msme_id: UUID
    product_id: UUID
    hs_code: str
    standard_id: UUID
    standard_version: int
    unit: str
    quantity: int
    plan: list[MonthQuantity]
    unit_price: Money
    lines: list[LineQuantity]
    expires_at: datetime
    reason: str
    at: datetime


class AllocationAccepted(Event, frozen=True, kw_only=True, tag="pooling.AllocationAccepted.v1"):
    """The MSME took all or part of a request; ``plan`` keeps the earliest months of the requested plan."""

    request_id: UUID
    pool_id: UUID
    msme_id: UUID
    product_id: UUID
    requested: int
    quantity: int
    shortfall: int
    plan: list[MonthQuantity]
    lines: list[LineQuantity]
    accepted_by: str
    at: datetime


class AllocationDeclined(Event, frozen=True, kw_only=True, tag="pooling.AllocationDeclined.v1"):
    request_id: UUID
    pool_id: UUID
    msme_id: UUID
    product_id: UUID
    quantity: int
    reason: str
    lines: list[LineQuantity]
    declined_by: str
    at: datetime


class AllocationExpired(Event, frozen=True, kw_only=True, tag="pooling.AllocationExpired.v1"):
    """Nobody answered the request before it expired."""

    request_id: UUID
    pool_id: UUID
    msme_id: UUID
    product_id: UUID
    quantity: int
    expires_at: datetime
    lines: list[LineQuantity]
    at: datetime


class AllocationWithdrawn(Event, frozen=True, kw_only=True, tag="pooling.AllocationWithdrawn.v1"):
    """The pool no longer needs what an unanswered request asked for."""

    request_id: UUID
    pool_id: UUID
    msme_id: UUID
    product_id: UUID
    quantity: int
    reason: str
    lines: list[LineQuantity]
    at: datetime


class AllocationReleased(Event, frozen=True, kw_only=True, tag="pooling.AllocationReleased.v1"):
    """Part of an accepted request is given back; ``remaining`` is what the MSME still makes."""

    request_id: UUID
    pool_id: UUID
    msme_id: UUID
    product_id: UUID
    quantity: int
    remaining: int
    released_plan: list[MonthQuantity]
    reason: str
    lines: list[LineQuantity]
    at: datetime
