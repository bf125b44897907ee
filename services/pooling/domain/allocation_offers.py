"""Screening candidate MSMEs and turning the eligible ones into priced offers for the solver."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from services.pooling.domain.allocation_model import (
    Candidate,
    CostBreakdown,
    Demand,
    Exclusion,
    ExclusionReason,
    Policy,
)


@dataclass(frozen=True, slots=True)
class TierOffer:
    """The quantities an MSME can supply at one price tier, with the weighted cost per unit."""

    min_quantity: int  # the tier's own threshold
    unit_price: Decimal  # in the MSME's currency
    low: int  # smallest quantity at this tier (tier threshold, MOQ)
    high: int  # largest quantity at this tier (next threshold − 1, capacity, share cap)
    unit_cost: Decimal  # weighted price + quality risk + logistics per unit, in the pool's currency


@dataclass(frozen=True, slots=True)
class Offer:
    candidate: Candidate
    rate: Decimal  # pool currency per unit of the MSME's currency
    capacity: int  # most it may supply: window capacity, share cap and demand
    tiers: tuple[TierOffer, ...]
    fixed_cost: Decimal  # weighted handling cost when used
    window_capacity: int  # the candidate's free capacity in the delivery window
    share_cap: int  # most its MSME may supply in all, across its products

    @property
    def msme_id(self) -> UUID:
        return self.candidate.msme_id

    @property
    def min_quantity(self) -> int:
        return self.tiers[0].low

    def tier_for(self, quantity: int) -> TierOffer:
        for tier in self.tiers:
            if tier.low <= quantity <= tier.high:
                return tier
        raise ValueError(f"{quantity} is not a quantity this offer can supply")

    def cost(self, quantity: int) -> Decimal:
        """Weighted cost of supplying this quantity (the objective's terms for this MSME)."""
        if quantity == 0:
            return Decimal(0)
        return self.tier_for(quantity).unit_cost * quantity + self.fixed_cost

    def best_unit_cost(self) -> Decimal:
        """The lowest weighted cost per unit this MSME can offer at any quantity it can supply."""
        return min((tier.unit_cost * tier.high + self.fixed_cost) / tier.high for tier in self.tiers)


def share_cap(demand: int, share: Decimal | None) -> int:
    return demand if share is None else math.floor(share * demand)


def _decimal(value: float) -> Decimal:
    return Decimal(str(value))


def validate(candidates: Sequence[Candidate]) -> None:
    seen: set[tuple[int, int]] = set()
    for candidate in candidates:
        key = (candidate.msme_id.int, candidate.product_id.int)
        if key in seen:
            raise ValueError(f"candidate {(candidate.msme_id, candidate.product_id)} appears twice")
        seen.add(key)
        thresholds = [tier.min_quantity for tier in candidate.price_tiers]
        if not thresholds or len(set(thresholds)) != len(thresholds):
            raise ValueError(f"candidate {key} needs price tiers with distinct minimum quantities")
        if any(units < 0 for _, units in candidate.monthly_capacity) or candidate.moq < 0:
            raise ValueError(f"candidate {key} has a negative capacity or MOQ")


def _screen_one(
    candidate: Candidate, capacity: int, demand: Demand, policy: Policy
) -> tuple[ExclusionReason, str] | None:
    if candidate.suspended:
        return ExclusionReason.SUSPENDED, "the MSME is suspended"
    if candidate.discontinued:
        return ExclusionReason.DISCONTINUED, "inspection is discontinued for this MSME"
    if not candidate.qualified and not (candidate.on_probation and policy.allow_probation):
        if candidate.on_probation:
            return ExclusionReason.NOT_QUALIFIED, "on probation, and this pool does not allow probation"
        return ExclusionReason.NOT_QUALIFIED, "not qualified for the pool's standard"
    missing = demand.required_certifications - candidate.certifications
    if missing:
        notes = dict(candidate.certification_notes)
        return ExclusionReason.MISSING_CERTIFICATION, "; ".join(
            notes.get(k, f"no {k} certificate") for k in sorted(missing)
        )
    if candidate.currency != demand.currency and candidate.currency not in policy.exchange_rates:
        return ExclusionReason.CURRENCY, f"priced in {candidate.currency}, no rate to {demand.currency} given"
    if capacity == 0:
        return ExclusionReason.NO_CAPACITY_IN_WINDOW, "no free capacity in the delivery window"
    minimum = _minimum_quantity(candidate)
    if minimum > capacity:
        return ExclusionReason.MOQ_EXCEEDS_CAPACITY, f"MOQ {minimum} exceeds capacity {capacity} in the window"
    if minimum > demand.quantity:
        return ExclusionReason.MOQ_EXCEEDS_NEED, f"MOQ {minimum} exceeds the demand of {demand.quantity}"
    cap = _share_cap_of(candidate, demand, policy)
    if minimum > cap:
        return ExclusionReason.SHARE_CAP, f"MOQ {minimum} exceeds the share cap of {cap}"
    return None


def _minimum_quantity(candidate: Candidate) -> int:
    """The smallest quantity the MSME sells: its MOQ, and never below its lowest priced tier."""
    return max(candidate.moq, min(tier.min_quantity for tier in candidate.price_tiers), 1)


def _share_cap_of(candidate: Candidate, demand: Demand, policy: Policy) -> int:
    base = demand.quantity if demand.share_base is None else demand.share_base
    cap = share_cap(base, policy.max_share)
    if not candidate.qualified:  # on probation
        cap = min(cap, share_cap(base, policy.probation_max_share))
    return max(cap - candidate.held, 0)


def _offer(candidate: Candidate, window_capacity: int, demand: Demand, policy: Policy) -> Offer:
    weights = policy.weights
    rate = Decimal(1) if candidate.currency == demand.currency else policy.exchange_rates[candidate.currency]
    cap = _share_cap_of(candidate, demand, policy)
    capacity = min(window_capacity, cap, demand.quantity)
    minimum = _minimum_quantity(candidate)
    per_unit_extras = weights.quality * (1 - _decimal(candidate.quality_score)) * (
        policy.rejection_penalty_per_unit
    ) + weights.logistics * policy.logistics_rate_per_unit_km * _decimal(candidate.distance_km)
    ordered = sorted(candidate.price_tiers, key=lambda tier: tier.min_quantity)
    tiers: list[TierOffer] = []
    for index, tier in enumerate(ordered):
        low = max(tier.min_quantity, minimum)
        high = capacity if index + 1 == len(ordered) else min(ordered[index + 1].min_quantity - 1, capacity)
        if low <= high:
            unit_cost = weights.price * tier.unit_price * rate + per_unit_extras
            tiers.append(TierOffer(tier.min_quantity, tier.unit_price, low, high, unit_cost))
    fixed_cost = weights.handling * policy.handling_cost_per_msme
    return Offer(candidate, rate, capacity, tuple(tiers), fixed_cost, window_capacity, cap)


def screen(demand: Demand, candidates: Sequence[Candidate], policy: Policy) -> tuple[list[Offer], list[Exclusion]]:
    """Eligible offers in id order, and every candidate left out with its reason."""
    validate(candidates)
    offers: list[Offer] = []
    excluded: list[Exclusion] = []
    for candidate in sorted(candidates, key=lambda c: (c.msme_id.int, c.product_id.int)):  # as the ids sort
        window_capacity = candidate.window_capacity
        rejection = _screen_one(candidate, window_capacity, demand, policy)
        if rejection is None:
            offers.append(_offer(candidate, window_capacity, demand, policy))
        else:
            excluded.append(Exclusion(candidate.msme_id, candidate.product_id, *rejection))
    return offers, excluded


def cost_breakdown(offer: Offer, quantity: int, policy: Policy) -> CostBreakdown:
    """The unweighted money terms of an allocation, in the pool's currency."""
    candidate = offer.candidate
    tier = offer.tier_for(quantity)
    return CostBreakdown.of(
        price=tier.unit_price * offer.rate * quantity,
        quality=(1 - _decimal(candidate.quality_score)) * policy.rejection_penalty_per_unit * quantity,
        logistics=policy.logistics_rate_per_unit_km * _decimal(candidate.distance_km) * quantity,
        handling=policy.handling_cost_per_msme,
    )


def msme_caps(offers: Sequence[Offer]) -> dict[UUID, int]:
    """Share cap per MSME, needed where one MSME offers several products to the same pool."""
    caps: dict[UUID, int] = {}
    for offer in offers:
        caps[offer.msme_id] = min(caps.get(offer.msme_id, offer.share_cap), offer.share_cap)
    return caps


def greedy_fill(offers: Sequence[Offer], demand: int, caps: dict[UUID, int]) -> dict[int, int]:
    """Cheapest first by cost per unit at the MSME's minimum quantity: offer index → quantity.

    Each MSME takes as much as it can (capacity, share cap, what is still open) if that reaches its MOQ.
    """

    def unit_cost_at_minimum(index: int) -> Decimal:
        offer = offers[index]
        return offer.cost(offer.min_quantity) / offer.min_quantity

    taken: dict[int, int] = {}
    used_by_msme: dict[UUID, int] = {}
    remaining = demand
    for index in sorted(range(len(offers)), key=unit_cost_at_minimum):
        offer = offers[index]
        room = caps[offer.msme_id] - used_by_msme.get(offer.msme_id, 0)
        quantity = min(offer.capacity, room, remaining)
        if quantity >= offer.min_quantity:
            taken[index] = quantity
            used_by_msme[offer.msme_id] = used_by_msme.get(offer.msme_id, 0) + quantity
            remaining -= quantity
        if remaining == 0:
            break
    return taken
