"""What can be asked of a pool: the commands its decider takes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from events.common import Money
from events.pooling import AllocationPolicy, Packages, ProposalExclusion, ProposedSupply, RequestEnd


@dataclass(frozen=True)
class OpenPool:
    pool_id: UUID
    aggregator_org: str
    name: str
    hs_code: str
    standard_id: UUID
    standard_version: int
    unit: str
    currency: str
    consolidation_point: str
    required_by: date | None
    by: str
    at: datetime
    inspector_orgs: tuple[str, ...] = ()


@dataclass(frozen=True)
class AddDemand:
    order_id: UUID
    line_id: UUID
    buyer_org: str
    aggregator_org: str
    hs_code: str
    standard_id: UUID
    standard_version: int
    unit: str
    quantity: int
    required_by: date
    confirmed_at: datetime
    by: str
    at: datetime


@dataclass(frozen=True)
class RemoveDemand:
    order_id: UUID
    line_id: UUID
    reason: str
    at: datetime


@dataclass(frozen=True)
class ProposalDraft:
    """The engine's answer, in event terms."""

    allocations: tuple[ProposedSupply, ...]
    excluded: tuple[ProposalExclusion, ...]
    allocated: int
    shortfall: int
    binding_reasons: tuple[str, ...]
    status: str
    mip_gap: float | None
    objective: Decimal


@dataclass(frozen=True)
class Propose:
    proposal_id: UUID
    open_quantity: int  # what the engine was asked to cover; the proposal is stale if the pool moved on
    draft: ProposalDraft
    policy: AllocationPolicy
    trigger: str
    by: str
    at: datetime


@dataclass(frozen=True)
class Approve:
    """Send a proposal's allocations as requests, paired in order with ``request_ids``."""

    proposal_id: UUID
    request_ids: tuple[UUID, ...]
    expires_at: datetime
    by: str
    at: datetime


@dataclass(frozen=True)
class Book:
    request_id: UUID
    quantity: int
    at: datetime


@dataclass(frozen=True)
class Lapse:
    request_id: UUID
    outcome: RequestEnd
    reason: str
    at: datetime


@dataclass(frozen=True)
class Release:
    request_id: UUID
    quantity: int
    reason: str
    at: datetime


@dataclass(frozen=True)
class ReceiveLot:
    lot_id: UUID
    msme_id: UUID
    product_id: UUID | None
    quantity: int
    lot_code: str
    delivered_on: date
    by: str
    at: datetime
    plot_ids: tuple[UUID, ...] | None = None  # None: every active plot of the MSME for the pool's commodity
    msme_plots: tuple[tuple[UUID, str], ...] = ()  # the MSME's active plots and their commodities


@dataclass(frozen=True)
class PassLot:
    lot_id: UUID
    inspection_id: UUID | None
    at: datetime
    inspector_org: str | None = None


@dataclass(frozen=True)
class ReturnLot:
    lot_id: UUID
    inspection_id: UUID | None
    reason: str
    at: datetime
    inspector_org: str | None = None


@dataclass(frozen=True)
class Ship:
    consignment_id: UUID
    partial: bool
    consent_reference: str | None
    by: str
    at: datetime
    packages: tuple[Packages, ...] | None = None
    freight: Money | None = None
    insurance: Money | None = None


PoolCommand = (
    OpenPool
    | AddDemand
    | RemoveDemand
    | Propose
    | Approve
    | Book
    | Lapse
    | Release
    | ReceiveLot
    | PassLot
    | ReturnLot
    | Ship
)
