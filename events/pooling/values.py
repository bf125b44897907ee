"""The values pooling's events carry: order lines and their progress, months, cost terms, proposals and
allocation policies."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal
from uuid import UUID

import msgspec

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
    require_halal_for_food: bool = False
    """Food (HS chapters 01–24) needs a halal certificate too, as Indonesia requires of food makers."""


class Packages(msgspec.Struct, frozen=True, kw_only=True):
    """Packages of one kind in a consignment: how many, and their UN/ECE Recommendation 21 code (BG bag, CT carton,
    BX box, PK package, PX pallet…)."""

    count: int
    kind: str


class ShippedLot(msgspec.Struct, frozen=True, kw_only=True):
    lot_id: UUID
    msme_id: UUID
    lot_code: str
    quantity: int
