"""A pool's events (stream ``pool-<pool_id>``): opening, demand, proposals and the supply booked into it."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from events.base import Event
from events.pooling.values import (
    AllocationPolicy,
    LineProgress,
    LineQuantity,
    ProposalExclusion,
    ProposedSupply,
    RequestEnd,
    SetAside,
)


class PoolOpened(Event, frozen=True, kw_only=True, tag="pooling.PoolOpened.v1"):
    """An aggregator opened a pool for one product spec and standard version, consolidated at one place."""

    pool_id: UUID
    aggregator_org: str
    name: str
    hs_code: str
    standard_id: UUID
    standard_version: int
    unit: str
    currency: str
    consolidation_point: str
    required_by: date | None = None
    opened_by: str
    at: datetime
    inspector_orgs: tuple[str, ...] = ()
    """Organisations whose inspectors' verdicts count for the pool's lots, besides the aggregator's own;
    empty means any inspector's verdict counts."""


class DemandAdded(Event, frozen=True, kw_only=True, tag="pooling.DemandAdded.v1"):
    """A confirmed order line joined the pool."""

    pool_id: UUID
    aggregator_org: str
    order_id: UUID
    line_id: UUID
    buyer_org: str
    quantity: int
    required_by: date
    confirmed_at: datetime
    lines: list[LineQuantity]
    progress: list[LineProgress]
    added_by: str
    at: datetime


class DemandRemoved(Event, frozen=True, kw_only=True, tag="pooling.DemandRemoved.v1"):
    """An order line left the pool (its order was cancelled)."""

    pool_id: UUID
    aggregator_org: str
    order_id: UUID
    line_id: UUID
    quantity: int
    reason: str
    lines: list[LineQuantity]
    progress: list[LineProgress]
    at: datetime


class AllocationProposed(Event, frozen=True, kw_only=True, tag="pooling.AllocationProposed.v1"):
    """The engine's proposal for the pool's open demand; ``trigger`` says what ran it."""

    pool_id: UUID
    aggregator_org: str
    proposal_id: UUID
    open_quantity: int
    allocations: list[ProposedSupply]
    excluded: list[ProposalExclusion]
    set_aside: list[SetAside]
    allocated: int
    shortfall: int
    binding_reasons: list[str]
    status: str
    mip_gap: float | None = None
    objective: Decimal
    policy: AllocationPolicy
    trigger: str
    proposed_by: str
    at: datetime


class ProposalApproved(Event, frozen=True, kw_only=True, tag="pooling.ProposalApproved.v1"):
    """A proposal's allocations went out as requests."""

    pool_id: UUID
    proposal_id: UUID
    request_ids: list[UUID]
    approved_by: str
    at: datetime


class SupplyRequested(Event, frozen=True, kw_only=True, tag="pooling.SupplyRequested.v1"):
    """The pool asked an MSME for units (see the request's AllocationRequested)."""

    pool_id: UUID
    request_id: UUID
    msme_id: UUID
    product_id: UUID
    quantity: int
    lines: list[LineQuantity]
    expires_at: datetime
    at: datetime


class SupplyBooked(Event, frozen=True, kw_only=True, tag="pooling.SupplyBooked.v1"):
    """An MSME accepted a request: its units count toward the pool; ``shortfall`` is what it did not take."""

    pool_id: UUID
    request_id: UUID
    msme_id: UUID
    product_id: UUID
    requested: int
    quantity: int
    shortfall: int
    lines: list[LineQuantity]
    progress: list[LineProgress]
    at: datetime


class SupplyLapsed(Event, frozen=True, kw_only=True, tag="pooling.SupplyLapsed.v1"):
    """A request ended without supply: declined, expired or withdrawn; its units are open again."""

    pool_id: UUID
    request_id: UUID
    msme_id: UUID
    product_id: UUID
    quantity: int
    outcome: RequestEnd
    reason: str
    lines: list[LineQuantity]
    at: datetime


class SupplyReleased(Event, frozen=True, kw_only=True, tag="pooling.SupplyReleased.v1"):
    """Booked units given back (the MSME lowered its capacity, or demand left the pool)."""

    pool_id: UUID
    request_id: UUID
    msme_id: UUID
    product_id: UUID
    quantity: int
    reason: str
    lines: list[LineQuantity]
    progress: list[LineProgress]
    at: datetime
