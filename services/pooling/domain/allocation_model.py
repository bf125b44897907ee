"""What the allocation engine takes (demand, candidate MSMEs, policy) and what it proposes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

ONE = Decimal(1)


class ExclusionReason(StrEnum):
    """Why a candidate MSME gets no share of the pool (a fixed list)."""

    NOT_QUALIFIED = "not_qualified"
    SUSPENDED = "suspended"
    DISCONTINUED = "discontinued"
    MISSING_CERTIFICATION = "missing_certification"
    NO_CAPACITY_IN_WINDOW = "no_capacity_in_window"
    MOQ_EXCEEDS_CAPACITY = "moq_exceeds_capacity"
    MOQ_EXCEEDS_NEED = "moq_exceeds_need"
    SHARE_CAP = "share_cap"
    CURRENCY = "currency"
    HIGHER_COST = "higher_cost"


class ShortfallReason(StrEnum):
    """What keeps a proposal from covering the whole demand."""

    CAPACITY = "capacity"
    CERTIFICATIONS = "certifications"
    MOQ = "moq"
    SHARE_CAP = "share_cap"
    MIN_MSMES = "min_msmes"


class ProposalStatus(StrEnum):
    OPTIMAL = "optimal"
    TIME_LIMIT = "time_limit"
    INFEASIBLE = "infeasible"
    NO_CANDIDATES = "no_candidates"
    HEURISTIC = "heuristic"  # the greedy baseline: feasible, optimality not claimed


@dataclass(frozen=True, slots=True)
class PriceTier:
    """An all-units price: the whole quantity is priced at the highest tier it reaches."""

    min_quantity: int
    unit_price: Decimal


@dataclass(frozen=True, slots=True)
class Candidate:
    """One MSME's product offered to a pool, with what quality and catalog know about it."""

    msme_id: UUID
    product_id: UUID
    msme_name: str
    city: str
    monthly_capacity: tuple[tuple[str, int], ...]  # ("YYYY-MM", free units), already limited to the window
    moq: int
    price_tiers: tuple[PriceTier, ...]
    currency: str
    quality_score: float
    severity: str = "normal"  # "normal", "tightened" or "reduced" inspection
    qualified: bool = True
    on_probation: bool = False  # not qualified yet, but may take a small share where the pool allows it
    suspended: bool = False
    discontinued: bool = False
    certifications: frozenset[str] = frozenset()  # the valid ones
    certification_notes: tuple[tuple[str, str], ...] = ()  # (kind, why the MSME's certificate of it falls short)
    distance_km: float = 0.0  # to the pool's consolidation point
    held: int = 0  # units the MSME already holds in the pool (accepted or requested), counted against its share

    @property
    def window_capacity(self) -> int:
        return sum(units for _, units in self.monthly_capacity)


@dataclass(frozen=True, slots=True)
class Demand:
    quantity: int
    currency: str
    required_certifications: frozenset[str] = frozenset()
    share_base: int | None = None  # what share caps are shares of; a re-allocation passes the pool's whole demand


@dataclass(frozen=True, slots=True)
class Weights:
    """How much each cost term counts in the objective."""

    price: Decimal = ONE
    quality: Decimal = ONE
    logistics: Decimal = ONE
    handling: Decimal = ONE


@dataclass(frozen=True, kw_only=True)
class Policy:
    """The aggregator's rules and cost rates for one allocation run (money in the pool's currency)."""

    weights: Weights = Weights()
    max_share: Decimal | None = None  # of the demand, per MSME
    min_msmes: int | None = None
    allow_probation: bool = False
    probation_max_share: Decimal = Decimal("0.05")
    exchange_rates: Mapping[str, Decimal] = field(default_factory=dict)  # pool currency per 1 unit of other
    rejection_penalty_per_unit: Decimal = Decimal(0)  # risk cost = (1 − score) × penalty × quantity
    logistics_rate_per_unit_km: Decimal = Decimal(0)
    handling_cost_per_msme: Decimal = Decimal(0)
    time_limit_s: float = 10.0
    mip_gap: float = 0.01
    decompose_from: int = 5_000  # offers from which a restricted model is tried before the full one


@dataclass(frozen=True, slots=True)
class CostBreakdown:
    """Unweighted cost terms of one allocation, in the pool's currency."""

    price: Decimal
    quality: Decimal
    logistics: Decimal
    handling: Decimal
    total: Decimal

    @classmethod
    def of(cls, price: Decimal, quality: Decimal, logistics: Decimal, handling: Decimal) -> CostBreakdown:
        return cls(price, quality, logistics, handling, price + quality + logistics + handling)


@dataclass(frozen=True, slots=True)
class ProposedAllocation:
    """Who makes how many, at which price, in which months, and why."""

    msme_id: UUID
    product_id: UUID
    quantity: int
    unit_price: Decimal  # the MSME's own tier price, in its own currency
    currency: str
    tier_min_quantity: int
    plan_by_month: tuple[tuple[str, int], ...]  # earliest months first
    cost: CostBreakdown
    reason: str


@dataclass(frozen=True, slots=True)
class Exclusion:
    msme_id: UUID
    product_id: UUID
    reason: ExclusionReason
    detail: str
    cost_difference: Decimal | None = None  # per unit, against the costliest chosen MSME (higher_cost)


@dataclass(frozen=True, slots=True)
class Proposal:
    allocations: tuple[ProposedAllocation, ...]
    excluded: tuple[Exclusion, ...]
    allocated: int
    shortfall: int
    binding_reasons: tuple[ShortfallReason, ...]
    status: ProposalStatus
    mip_gap: float
    objective: Decimal  # weighted cost of the allocations
    solve_seconds: float = field(default=0.0, compare=False)
    timings: tuple[tuple[str, float], ...] = field(default=(), compare=False)  # seconds per stage, in order
