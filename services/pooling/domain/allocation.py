"""The allocation engine: which MSMEs make how much of a pool's demand, at the least cost.

Pure: no I/O, no clock, no randomness (``time.perf_counter`` only measures ``solve_seconds`` and
``timings``). The model is described in ``allocation_program`` and solved in ``allocation_mip`` (large pools
through the restricted model of ``allocation_restricted``); ``greedy`` is a cheapest-first baseline.

Ties: offers are laid out in (msme_id, product_id) order, and after solving, interchangeable offers
(same tiers, costs and monthly capacity) have their quantities handed out largest first in id order, so
among identical MSMEs the lower id is chosen, whatever the solver's path. No cost epsilon is needed.
"""

from __future__ import annotations

import heapq
import math
import time
from collections import Counter, defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import replace
from decimal import Decimal

from services.pooling.domain.allocation_mip import solve
from services.pooling.domain.allocation_model import (
    Candidate,
    CostBreakdown,
    Demand,
    Exclusion,
    ExclusionReason,
    Policy,
    PriceTier,
    Proposal,
    ProposalStatus,
    ProposedAllocation,
    ShortfallReason,
    Weights,
)
from services.pooling.domain.allocation_offers import Offer, cost_breakdown, greedy_fill, msme_caps, screen

__all__ = [
    "Candidate",
    "CostBreakdown",
    "Demand",
    "Exclusion",
    "ExclusionReason",
    "Policy",
    "PriceTier",
    "Proposal",
    "ProposalStatus",
    "ProposedAllocation",
    "ShortfallReason",
    "Weights",
    "allocate",
    "greedy",
    "plan_by_month",
]

HIGHER_COST_SHOWN = 5  # the cheapest unchosen candidates reported with their cost difference


def allocate(demand: Demand, candidates: Sequence[Candidate], policy: Policy) -> Proposal:
    """The most quantity that can be allocated, at the least weighted cost (lexicographic MIP)."""
    began = time.perf_counter()
    _check(demand, policy)
    offers, excluded = screen(demand, candidates, policy)
    if not offers:
        reasons = _binding_reasons(demand, candidates, offers, excluded, 0, policy, min_msmes_binding=False)
        return _empty(demand, excluded, ProposalStatus.NO_CANDIDATES, reasons, began)
    screened = time.perf_counter()
    caps = msme_caps(offers)
    start = greedy_fill(offers, demand.quantity, caps)
    started = time.perf_counter()
    outcome = solve(
        offers,
        demand.quantity,
        caps,
        min_msmes=policy.min_msmes,
        start=start,
        time_limit_s=policy.time_limit_s,
        mip_gap=policy.mip_gap,
        decompose_from=policy.decompose_from,
    )
    solved = time.perf_counter()
    if outcome.status == ProposalStatus.INFEASIBLE:
        reasons = (ShortfallReason.MIN_MSMES,) if policy.min_msmes else ()
        return _empty(demand, excluded, ProposalStatus.INFEASIBLE, reasons, began)
    quantities = _canonical(offers, outcome.quantities)
    allocated = sum(quantities.values())
    min_msmes_binding = False
    if policy.min_msmes and allocated < demand.quantity:
        unconstrained = solve(
            offers,
            demand.quantity,
            caps,
            min_msmes=None,
            start=start,
            time_limit_s=policy.time_limit_s,
            mip_gap=1.0,
            decompose_from=policy.decompose_from,
        )
        min_msmes_binding = sum(unconstrained.quantities.values()) > allocated
    reasons = _binding_reasons(demand, candidates, offers, excluded, allocated, policy, min_msmes_binding)
    status = ProposalStatus(outcome.status)
    proposal = _proposal(demand, offers, excluded, quantities, reasons, status, outcome.mip_gap, policy, began)
    stages = {"screening": screened - began, "greedy start": started - screened, **outcome.timings}
    stages["proposal"] = time.perf_counter() - solved
    return replace(proposal, timings=tuple(stages.items()))


def greedy(demand: Demand, candidates: Sequence[Candidate], policy: Policy) -> Proposal:
    """Baseline: cheapest per unit at the MOQ first, each taking all it can; MOQ, capacity, share cap hold."""
    began = time.perf_counter()
    _check(demand, policy)
    offers, excluded = screen(demand, candidates, policy)
    if not offers:
        reasons = _binding_reasons(demand, candidates, offers, excluded, 0, policy, min_msmes_binding=False)
        return _empty(demand, excluded, ProposalStatus.NO_CANDIDATES, reasons, began)
    quantities = greedy_fill(offers, demand.quantity, msme_caps(offers))
    allocated = sum(quantities.values())
    reasons = _binding_reasons(demand, candidates, offers, excluded, allocated, policy, min_msmes_binding=False)
    return _proposal(demand, offers, excluded, quantities, reasons, ProposalStatus.HEURISTIC, math.inf, policy, began)


def plan_by_month(monthly_capacity: Sequence[tuple[str, int]], quantity: int) -> tuple[tuple[str, int], ...]:
    """Spread a quantity over the months, earliest first, within each month's capacity."""
    plan: list[tuple[str, int]] = []
    remaining = quantity
    for month, units in sorted(monthly_capacity):
        take = min(units, remaining)
        if take > 0:
            plan.append((month, take))
            remaining -= take
    if remaining:
        raise ValueError(f"{quantity} exceeds the capacity in the window")
    return tuple(plan)


def _check(demand: Demand, policy: Policy) -> None:
    if demand.quantity <= 0:
        raise ValueError("demand must be a positive quantity")
    if policy.min_msmes is not None and policy.min_msmes < 0:
        raise ValueError("min_msmes cannot be negative")


def _canonical(offers: Sequence[Offer], quantities: dict[int, int]) -> dict[int, int]:
    """Hand the quantities of interchangeable offers out largest first in id order (ties by id)."""
    offers_per_msme = Counter(offer.msme_id.int for offer in offers)
    alike: dict[Hashable, list[int]] = defaultdict(list)  # a cheap first sort; most offers stand alone
    for index, offer in enumerate(offers):
        if offers_per_msme[offer.msme_id.int] == 1:  # an MSME with one offer: swapping breaks no MSME cap
            alike[offer.capacity, offer.candidate.monthly_capacity].append(index)
    result = dict(quantities)
    for similar in alike.values():
        if len(similar) == 1:
            continue
        groups: dict[Hashable, list[int]] = defaultdict(list)
        for index in similar:
            offer = offers[index]
            groups[tuple((t.low, t.high, t.unit_cost) for t in offer.tiers), offer.fixed_cost].append(index)
        for members in groups.values():
            if len(members) > 1:
                given = sorted((result.pop(i, 0) for i in members), reverse=True)
                result.update({i: q for i, q in zip(members, given, strict=True) if q > 0})
    return result


def _empty(
    demand: Demand,
    excluded: list[Exclusion],
    status: ProposalStatus,
    reasons: tuple[ShortfallReason, ...],
    began: float,
) -> Proposal:
    return Proposal(
        allocations=(),
        excluded=tuple(excluded),
        allocated=0,
        shortfall=demand.quantity,
        binding_reasons=reasons,
        status=status,
        mip_gap=0.0,
        objective=Decimal(0),
        solve_seconds=time.perf_counter() - began,
    )


def _binding_reasons(
    demand: Demand,
    candidates: Sequence[Candidate],
    offers: Sequence[Offer],
    excluded: Sequence[Exclusion],
    allocated: int,
    policy: Policy,
    min_msmes_binding: bool,
) -> tuple[ShortfallReason, ...]:
    """Why the demand is not covered, when it is not."""
    if allocated >= demand.quantity:
        return ()
    by_key = {(c.msme_id, c.product_id): c for c in candidates}
    reasons_out = {e.reason for e in excluded}
    capped = sum(offer.capacity for offer in offers)
    found: list[ShortfallReason] = []
    if sum(offer.window_capacity for offer in offers) < demand.quantity:
        found.append(ShortfallReason.CAPACITY)
    if any(
        e.reason == ExclusionReason.MISSING_CERTIFICATION and by_key[e.msme_id, e.product_id].window_capacity
        for e in excluded
    ):
        found.append(ShortfallReason.CERTIFICATIONS)
    moq_reasons = {ExclusionReason.MOQ_EXCEEDS_CAPACITY, ExclusionReason.MOQ_EXCEEDS_NEED}
    if reasons_out & moq_reasons or (allocated < min(capped, demand.quantity) and not min_msmes_binding):
        found.append(ShortfallReason.MOQ)
    share_limited = any(offer.capacity < min(offer.window_capacity, demand.quantity) for offer in offers)
    if ExclusionReason.SHARE_CAP in reasons_out or (capped < demand.quantity and share_limited):
        found.append(ShortfallReason.SHARE_CAP)
    if min_msmes_binding:
        found.append(ShortfallReason.MIN_MSMES)
    return tuple(found) or (ShortfallReason.CAPACITY,)


def _chosen_reason(offer: Offer, quantity: int, cost: CostBreakdown, currency: str) -> str:
    tier = offer.tier_for(quantity)
    per_unit = offer.cost(quantity) / quantity
    text = (
        f"chosen: lowest total cost per unit {per_unit:.2f} {currency} (weighted) at the "
        f"{tier.min_quantity}+ tier; price {cost.price / quantity:.2f}, quality risk "
        f"{cost.quality / quantity:.2f}, logistics {cost.logistics / quantity:.2f}, handling "
        f"{cost.handling / quantity:.2f} per unit"
    )
    if quantity == offer.capacity and offer.capacity < offer.window_capacity:
        text += "; limited by the share cap"
    elif quantity == offer.window_capacity:
        text += "; all its capacity in the window"
    return text


def _unchosen(
    offers: Sequence[Offer], quantities: dict[int, int], open_quantity: int, currency: str
) -> list[Exclusion]:
    """The cheapest few offers the proposal does not use, and how much dearer they are per unit."""
    chosen = [offers[i].cost(q) / q for i, q in quantities.items()]
    marginal = max(chosen) if chosen else None
    unused = heapq.nsmallest(
        HIGHER_COST_SHOWN,
        (i for i in range(len(offers)) if i not in quantities),
        key=lambda i: (offers[i].best_unit_cost(), i),
    )
    result: list[Exclusion] = []
    for index in unused:
        offer = offers[index]
        key = (offer.candidate.msme_id, offer.candidate.product_id)
        if offer.min_quantity > open_quantity and open_quantity > 0:
            detail = f"MOQ {offer.min_quantity} exceeds the {open_quantity} still open"
            result.append(Exclusion(*key, ExclusionReason.MOQ_EXCEEDS_NEED, detail))
            continue
        best = offer.best_unit_cost()
        difference = None if marginal is None else best - marginal
        detail = f"at best {best:.2f} {currency} per unit (weighted)"
        if difference is not None and difference > 0:
            detail += f", {difference:.2f} more than the costliest chosen MSME"
        elif difference is not None:
            detail += "; cheaper per unit, but its MOQ, tiers or capacity fit the demand at a higher total"
        result.append(Exclusion(*key, ExclusionReason.HIGHER_COST, detail, difference))
    return result


def _proposal(
    demand: Demand,
    offers: Sequence[Offer],
    excluded: list[Exclusion],
    quantities: dict[int, int],
    reasons: tuple[ShortfallReason, ...],
    status: ProposalStatus,
    mip_gap: float,
    policy: Policy,
    began: float,
) -> Proposal:
    allocations: list[ProposedAllocation] = []
    for index in sorted(quantities):
        offer, quantity = offers[index], quantities[index]
        candidate, tier = offer.candidate, offer.tier_for(quantity)
        cost = cost_breakdown(offer, quantity, policy)
        allocations.append(
            ProposedAllocation(
                msme_id=candidate.msme_id,
                product_id=candidate.product_id,
                quantity=quantity,
                unit_price=tier.unit_price,
                currency=candidate.currency,
                tier_min_quantity=tier.min_quantity,
                plan_by_month=plan_by_month(candidate.monthly_capacity, quantity),
                cost=cost,
                reason=_chosen_reason(offer, quantity, cost, demand.currency),
            )
        )
    allocated = sum(quantities.values())
    unchosen = _unchosen(offers, quantities, demand.quantity - allocated, demand.currency)
    return Proposal(
        allocations=tuple(allocations),
        excluded=(*excluded, *unchosen),
        allocated=allocated,
        shortfall=demand.quantity - allocated,
        binding_reasons=reasons,
        status=status,
        mip_gap=mip_gap,
        objective=sum((offers[i].cost(q) for i, q in quantities.items()), Decimal(0)),
        solve_seconds=time.perf_counter() - began,
    )
