"""Pooling's events: pools, allocation requests, capacity ledgers, lots and consignments.

Streams: ``pool-<pool_id>`` (demand, proposals, the supply booked into the pool, lots, shipment),
``allocation-request-<request_id>`` (one request to one MSME), ``capacity:<product_id>:<YYYY-MM>`` (the
capacity ledger of a product's month) and ``order-demand-<order_id>`` (which pool each confirmed line joined,
or that none matched). Capacity ledger events carry the month's totals after the change.

Every event that changes quantities names the order lines it affects (``lines``: order, line, quantity),
and the pool's events carry ``progress``, each affected line's totals after the change, so orders can follow
a line from the pool's stream alone, in order.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

import msgspec

from events.base import Event, EventCodec
from events.common import Money

RequestEnd = Literal["declined", "expired", "withdrawn"]
SetAsideReason = Literal["declined", "expired", "partial", "lot_rejected", "capacity_lowered"]


class LineQuantity(msgspec.Struct, frozen=True, kw_only=True):
    """How many units of one order line an event concerns."""

    order_id: UUID
    line_id: UUID
    quantity: int


class LineProgress(msgspec.Struct, frozen=True, kw_only=True):
    """An order line's totals in its pool after an event (delivered counts lots not returned)."""

    order_id: UUID
    line_id: UUID
    demand: int
    accepted: int
    delivered: int
    passed: int
    shipped: int


class MonthQuantity(msgspec.Struct, frozen=True, kw_only=True):
    month: str
    quantity: int


class CostTerms(msgspec.Struct, frozen=True, kw_only=True):
    """Unweighted cost of one proposed allocation, in the pool's currency."""

    price: Decimal
    quality: Decimal
    logistics: Decimal
    handling: Decimal
    total: Decimal


class ProposedSupply(msgspec.Struct, frozen=True, kw_only=True):
    """One MSME's share in a proposal, and why it was chosen."""

    msme_id: UUID
    product_id: UUID
    msme_name: str
    quantity: int
    unit_price: Money
    tier_min_quantity: int
    plan: list[MonthQuantity]
    cost: CostTerms
    reason: str


class ProposalExclusion(msgspec.Struct, frozen=True, kw_only=True):
    """A candidate the engine left out; ``reason`` is one of the engine's fixed reasons."""

    msme_id: UUID
    product_id: UUID
    reason: str
    detail: str
    cost_difference: Decimal | None = None


class SetAside(msgspec.Struct, frozen=True, kw_only=True):
    """An MSME this pool no longer asks: it declined, let a request expire, fell short or failed inspection."""

    msme_id: UUID
    reason: SetAsideReason
    detail: str


class ExchangeRate(msgspec.Struct, frozen=True, kw_only=True):
    """Units of the pool's currency per one unit of ``currency``."""

    currency: str
    rate: Decimal


class AllocationPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """The aggregator's rules for an allocation run; re-allocations of the pool reuse the latest."""

    price_weight: Decimal = Decimal(1)
    quality_weight: Decimal = Decimal(1)
    logistics_weight: Decimal = Decimal(1)
    handling_weight: Decimal = Decimal(1)
    max_share: Decimal | None = None
    min_msmes: int | None = None
    required_certifications: list[str] = msgspec.field(default_factory=list)
    allow_probation: bool = False
    probation_max_share: Decimal = Decimal("0.05")
    exchange_rates: list[ExchangeRate] = msgspec.field(default_factory=list)
    rejection_penalty_per_unit: Decimal = Decimal(0)
    logistics_rate_per_unit_km: Decimal = Decimal(0)
    handling_cost_per_msme: Decimal = Decimal(0)
    time_limit_s: float = 10.0
    mip_gap: float = 0.01
    expires_in_s: int = 48 * 3600


class ShippedLot(msgspec.Struct, frozen=True, kw_only=True):
    lot_id: UUID
    msme_id: UUID
    lot_code: str
    quantity: int


# --- the pool ---------------------------------------------------------------------------------------------


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


class LotReceived(Event, frozen=True, kw_only=True, tag="pooling.LotReceived.v1"):
    """An MSME's lot arrived at the consolidation point; quality inspects it by ``lot_id``."""

    pool_id: UUID
    aggregator_org: str
    lot_id: UUID
    msme_id: UUID
    product_id: UUID
    quantity: int
    lot_code: str
    delivered_on: date
    hs_code: str
    standard_id: UUID
    standard_version: int
    unit: str
    lines: list[LineQuantity]
    progress: list[LineProgress]
    received_by: str
    at: datetime


class LotPassed(Event, frozen=True, kw_only=True, tag="pooling.LotPassed.v1"):
    """Quality accepted the lot: its units count toward filling the pool."""

    pool_id: UUID
    lot_id: UUID
    msme_id: UUID
    quantity: int
    inspection_id: UUID | None = None
    lines: list[LineQuantity]
    progress: list[LineProgress]
    at: datetime


class LotReturned(Event, frozen=True, kw_only=True, tag="pooling.LotReturned.v1"):
    """Quality rejected the lot: it goes back to the MSME and its units are open for re-allocation."""

    pool_id: UUID
    lot_id: UUID
    msme_id: UUID
    quantity: int
    reason: str
    inspection_id: UUID | None = None
    lines: list[LineQuantity]
    progress: list[LineProgress]
    at: datetime


class PoolFilled(Event, frozen=True, kw_only=True, tag="pooling.PoolFilled.v1"):
    """Lots that passed inspection cover the pool's whole demand."""

    pool_id: UUID
    aggregator_org: str
    demand: int
    passed: int
    lines: list[LineQuantity]
    progress: list[LineProgress]
    at: datetime


class ConsignmentShipped(Event, frozen=True, kw_only=True, tag="pooling.ConsignmentShipped.v1"):
    """The consolidated consignment left with its lots; ``partial`` when the buyers consented to less."""

    pool_id: UUID
    aggregator_org: str
    consignment_id: UUID
    lots: list[ShippedLot]
    quantity: int
    partial: bool
    consent_reference: str | None = None
    lines: list[LineQuantity]
    progress: list[LineProgress]
    shipped_by: str
    at: datetime


# --- allocation requests ----------------------------------------------------------------------------------


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


# --- capacity ledgers ---------------------------------------------------------------------------------------


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


# --- where confirmed order lines went ---------------------------------------------------------------------


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


PoolingEvent = (
    PoolOpened
    | DemandAdded
    | DemandRemoved
    | AllocationProposed
    | ProposalApproved
    | SupplyRequested
    | SupplyBooked
    | SupplyLapsed
    | SupplyReleased
    | LotReceived
    | LotPassed
    | LotReturned
    | PoolFilled
    | ConsignmentShipped
    | AllocationRequested
    | AllocationAccepted
    | AllocationDeclined
    | AllocationExpired
    | AllocationWithdrawn
    | AllocationReleased
    | CapacityRecorded
    | CapacityCommitted
    | CapacityReleased
    | DemandUnmatched
    | DemandPooled
    | DemandCancelled
)
CODEC = EventCodec("pooling", PoolingEvent)
