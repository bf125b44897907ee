"""Small random pools and an exhaustive search written from the rules, to check the allocation engine against.

The exhaustive search is not written from the engine: a dynamic programme over (quantity allocated,
MSMEs used) that tries every quantity of every eligible MSME. Both the full model's properties and the
restricted model's agreement with it are checked against it, with ``assert_optimal``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from hypothesis import strategies as st

from services.pooling.domain.allocation import (
    Candidate,
    Demand,
    ExclusionReason,
    Policy,
    PriceTier,
    Proposal,
    ProposalStatus,
    Weights,
)

MONTHS = ("2027-01", "2027-02", "2027-03")
RATES = {"IDR": Decimal("0.5")}  # "EUR" has no rate: left out
RARELY = st.sampled_from([False] * 19 + [True])


@dataclass(frozen=True)
class Pool:
    demand: Demand
    candidates: list[Candidate]
    policy: Policy


@st.composite
def candidates(draw: st.DrawFn, number: int) -> Candidate:
    capacity = draw(st.lists(st.integers(0, 25), min_size=1, max_size=3))
    lowest = draw(st.integers(1, 10))
    thresholds = sorted({lowest} | draw(st.sets(st.integers(lowest + 1, 40), max_size=2)))
    prices = draw(st.lists(st.integers(100, 2_000), min_size=len(thresholds), max_size=len(thresholds)))
    qualified = draw(st.booleans().map(lambda b: b or number % 3 != 0))  # mostly qualified
    return Candidate(
        msme_id=UUID(int=number),
        product_id=UUID(int=100 + number),
        msme_name=f"Batik Pekalongan {number}",
        city="Pekalongan",
        monthly_capacity=tuple(zip(MONTHS, capacity, strict=False)),
        moq=draw(st.integers(0, 15)),
        price_tiers=tuple(PriceTier(t, Decimal(p) / 100) for t, p in zip(thresholds, prices, strict=True)),
        currency=draw(st.sampled_from(["USD"] * 6 + ["IDR"] * 3 + ["EUR"])),
        quality_score=draw(st.sampled_from([0.5, 0.75, 0.9, 1.0])),
        qualified=qualified,
        on_probation=not qualified and draw(st.booleans()),
        suspended=draw(RARELY),
        discontinued=draw(RARELY),
        certifications=draw(st.sampled_from([frozenset({"halal"})] * 4 + [frozenset()])),
        distance_km=draw(st.sampled_from([0.0, 120.0, 900.5])),
    )


@st.composite
def pools(draw: st.DrawFn) -> Pool:
    count = draw(st.integers(1, 6))
    pool_candidates = [draw(candidates(number)) for number in range(1, count + 1)]
    required = draw(st.sampled_from([frozenset(), frozenset({"halal"})]))
    policy = Policy(
        weights=Weights(
            price=draw(st.sampled_from([Decimal(1), Decimal(2)])),
            quality=draw(st.sampled_from([Decimal(1), Decimal("0.5")])),
        ),
        max_share=draw(st.sampled_from([None, Decimal("0.3"), Decimal("0.5")])),
        min_msmes=draw(st.sampled_from([None, None, 1, 2, 3])),
        allow_probation=draw(st.booleans()),
        probation_max_share=Decimal("0.2"),
        exchange_rates=RATES,
        rejection_penalty_per_unit=draw(st.sampled_from([Decimal(0), Decimal(4)])),
        logistics_rate_per_unit_km=draw(st.sampled_from([Decimal(0), Decimal("0.01")])),
        handling_cost_per_msme=draw(st.sampled_from([Decimal(0), Decimal(7), Decimal(30)])),
        mip_gap=0.0,
    )
    return Pool(Demand(draw(st.integers(5, 60)), "USD", required), pool_candidates, policy)


def eligible(candidate: Candidate, pool: Pool) -> bool:
    policy = pool.policy
    return (
        not candidate.suspended
        and not candidate.discontinued
        and (candidate.qualified or (candidate.on_probation and policy.allow_probation))
        and pool.demand.required_certifications <= candidate.certifications
        and (candidate.currency == "USD" or candidate.currency in policy.exchange_rates)
    )


def quantity_range(candidate: Candidate, pool: Pool) -> range:
    """Every quantity an eligible MSME may supply: MOQ and lowest tier up to capacity and share cap."""
    share = pool.policy.max_share if candidate.qualified else pool.policy.probation_max_share
    if not candidate.qualified and pool.policy.max_share is not None:
        share = min(pool.policy.max_share, pool.policy.probation_max_share)
    cap = pool.demand.quantity if share is None else int(share * pool.demand.quantity)
    low = max(candidate.moq, min(t.min_quantity for t in candidate.price_tiers), 1)
    high = min(candidate.window_capacity, cap, pool.demand.quantity)
    return range(low, high + 1) if eligible(candidate, pool) else range(0)


def tier_price(candidate: Candidate, quantity: int) -> Decimal:
    return max(
        (t for t in candidate.price_tiers if t.min_quantity <= quantity), key=lambda t: t.min_quantity
    ).unit_price


def weighted_cost(candidate: Candidate, quantity: int, policy: Policy) -> Decimal:
    rate = Decimal(1) if candidate.currency == "USD" else policy.exchange_rates[candidate.currency]
    weights = policy.weights
    per_unit = (
        weights.price * tier_price(candidate, quantity) * rate
        + weights.quality * (1 - Decimal(str(candidate.quality_score))) * policy.rejection_penalty_per_unit
        + weights.logistics * policy.logistics_rate_per_unit_km * Decimal(str(candidate.distance_km))
    )
    return per_unit * quantity + weights.handling * policy.handling_cost_per_msme


def exhaustive(pool: Pool) -> tuple[int, Decimal] | None:
    """(most quantity, least weighted cost at it) over every feasible allocation; None if none exists."""
    need = pool.policy.min_msmes or 0
    best: dict[tuple[int, int], Decimal] = {(0, 0): Decimal(0)}  # (total, MSMEs used up to `need`) → cost
    for candidate in pool.candidates:
        options = quantity_range(candidate, pool)
        step = dict(best)
        for (total, used), cost in best.items():
            for quantity in options:
                if total + quantity > pool.demand.quantity:
                    break
                key = (total + quantity, min(used + 1, need))
                value = cost + weighted_cost(candidate, quantity, pool.policy)
                if key not in step or value < step[key]:
                    step[key] = value
        best = step
    reachable = [(total, cost) for (total, used), cost in best.items() if used >= need]
    if not reachable:
        return None
    most = max(total for total, _ in reachable)
    return most, min(cost for total, cost in reachable if total == most)


def check_feasible(proposal: Proposal, pool: Pool) -> None:
    by_id = {c.msme_id: c for c in pool.candidates}
    assert proposal.allocated == sum(a.quantity for a in proposal.allocations) <= pool.demand.quantity
    assert proposal.shortfall == pool.demand.quantity - proposal.allocated
    assert len({a.msme_id for a in proposal.allocations}) == len(proposal.allocations)
    for allocation in proposal.allocations:
        candidate = by_id[allocation.msme_id]
        assert allocation.quantity in quantity_range(candidate, pool)
        assert allocation.unit_price == tier_price(candidate, allocation.quantity)
        plan = dict(allocation.plan_by_month)
        assert sum(plan.values()) == allocation.quantity
        capacity = dict(candidate.monthly_capacity)
        assert all(0 < units <= capacity[month] for month, units in plan.items())
        last = max(plan)
        assert all(plan.get(month) == units for month, units in capacity.items() if month < last and units)
    expected = sum((weighted_cost(by_id[a.msme_id], a.quantity, pool.policy) for a in proposal.allocations), Decimal(0))
    assert proposal.objective == expected
    screened_out = {e.msme_id for e in proposal.excluded if e.reason != ExclusionReason.HIGHER_COST}
    for candidate in pool.candidates:
        if not quantity_range(candidate, pool):
            assert candidate.msme_id in screened_out


def close(a: Decimal, b: Decimal) -> bool:
    return abs(a - b) <= Decimal("1e-6") * max(Decimal(1), abs(b))


def assert_optimal(proposal: Proposal, pool: Pool, expected: tuple[int, Decimal]) -> None:
    """The proposal is feasible, meets the minimum of MSMEs, and allocates the most quantity at the least cost."""
    assert proposal.status == ProposalStatus.OPTIMAL
    check_feasible(proposal, pool)
    assert len(proposal.allocations) >= (pool.policy.min_msmes or 0)
    most, least_cost = expected
    assert proposal.allocated == most
    assert close(proposal.objective, least_cost)
