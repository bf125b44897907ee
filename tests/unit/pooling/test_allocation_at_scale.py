"""The restricted model used for large pools: its bound holds, and it agrees with the full model.

Small pools are checked against the exhaustive search of ``small_pools``; pools of a few
thousand candidates, with MSMEs offering several products under a share cap, against the full model.
"""

from __future__ import annotations

import random
from dataclasses import replace
from decimal import Decimal
from uuid import UUID

import pytest
from hypothesis import given, settings

from services.pooling.domain.allocation import (
    Candidate,
    Demand,
    Policy,
    PriceTier,
    Proposal,
    ProposalStatus,
    allocate,
)
from services.pooling.domain.allocation_bound import lagrangian_bound
from services.pooling.domain.allocation_offers import greedy_fill, msme_caps, screen
from services.pooling.domain.allocation_program import Stopwatch, TierTable
from services.pooling.domain.allocation_restricted import solve
from tests.unit.pooling.small_pools import Pool, assert_optimal, exhaustive, pools

pytestmark = pytest.mark.unit

RESTRICTED = 1  # decompose_from: restrict at every size
FULL = 10**9  # decompose_from: never


def restricted(policy: Policy) -> Policy:
    return replace(policy, decompose_from=RESTRICTED)


@settings(max_examples=150, deadline=None)
@given(pools())
def test_the_restricted_model_finds_what_the_exhaustive_search_finds(pool: Pool) -> None:
    proposal = allocate(pool.demand, pool.candidates, restricted(pool.policy))
    expected = exhaustive(pool)
    if expected is None or proposal.status == ProposalStatus.NO_CANDIDATES:
        assert proposal.allocations == ()
        return
    assert_optimal(proposal, pool, expected)


@settings(max_examples=150, deadline=None)
@given(pools())
def test_the_lagrangian_bound_never_exceeds_the_least_cost(pool: Pool) -> None:
    offers, _ = screen(pool.demand, pool.candidates, pool.policy)
    expected = exhaustive(pool)
    if not offers or expected is None:
        return
    table = TierTable.of(offers, msme_caps(offers))
    most, least_cost = expected
    if table.most_quantity(pool.demand.quantity) != most:  # the bound is for exactly the upper bound's units
        return
    bound = lagrangian_bound(table, most)
    assert bound.value <= float(least_cost) + 1e-6 * max(1.0, float(least_cost))


def weavers(count: int, seed: int, products_per_msme: int = 1) -> list[Candidate]:
    """Rattan weavers around Cirebon with all-units price tiers, MOQs and three months of capacity."""
    rng = random.Random(seed)
    candidates = []
    for number in range(count):
        price = rng.uniform(6.0, 12.0)
        thresholds = [1, *sorted(rng.sample((100, 250, 500, 1_000, 2_000), rng.randint(1, 3)))]
        tiers = tuple(
            PriceTier(threshold, Decimal(f"{price * (1 - 0.05 * step):.2f}"))
            for step, threshold in enumerate(thresholds)
        )
        candidates.append(
            Candidate(
                msme_id=UUID(int=1 + number // products_per_msme),
                product_id=UUID(int=10**6 + number),
                msme_name=f"Rotan Cirebon {number}",
                city="Cirebon",
                monthly_capacity=tuple((m, rng.randint(100, 3_000)) for m in ("2027-02", "2027-03", "2027-04")),
                moq=rng.randint(50, 500),
                price_tiers=tiers,
                currency="USD",
                quality_score=round(rng.uniform(0.5, 0.99), 3),
                certifications=frozenset({"halal"}),
                distance_km=round(rng.uniform(0, 1_500), 1),
            )
        )
    return candidates


COSTS = Policy(
    max_share=Decimal("0.25"),
    rejection_penalty_per_unit=Decimal("2.00"),
    logistics_rate_per_unit_km=Decimal("0.0005"),
    handling_cost_per_msme=Decimal("150"),
    mip_gap=0.01,
    time_limit_s=120.0,
)


def share_of_capacity(candidates: list[Candidate], share: float) -> Demand:
    return Demand(int(sum(c.window_capacity for c in candidates) * share), "USD", frozenset({"halal"}))


def check_caps(proposal: Proposal, candidates: list[Candidate], demand: Demand, policy: Policy) -> None:
    """Capacity, MOQ and tier per allocation, and each MSME's share cap over all its products."""
    by_key = {(c.msme_id, c.product_id): c for c in candidates}
    per_msme: dict[UUID, int] = {}
    for allocation in proposal.allocations:
        candidate = by_key[allocation.msme_id, allocation.product_id]
        assert max(candidate.moq, 1) <= allocation.quantity <= candidate.window_capacity
        tier = max(
            (t for t in candidate.price_tiers if t.min_quantity <= allocation.quantity), key=lambda t: t.min_quantity
        )
        assert allocation.unit_price == tier.unit_price
        per_msme[allocation.msme_id] = per_msme.get(allocation.msme_id, 0) + allocation.quantity
    if policy.max_share is not None:
        assert max(per_msme.values()) <= int(policy.max_share * demand.quantity)
    assert proposal.allocated == sum(a.quantity for a in proposal.allocations) <= demand.quantity


def agree(candidates: list[Candidate], demand: Demand, policy: Policy) -> Proposal:
    """The restricted model's proposal, after checking it against the full model's on the same pool."""
    at_scale = allocate(demand, candidates, restricted(policy))
    full = allocate(demand, candidates, replace(policy, decompose_from=FULL))
    assert at_scale.status == full.status == ProposalStatus.OPTIMAL
    assert at_scale.allocated == full.allocated
    assert at_scale.mip_gap <= policy.mip_gap
    assert at_scale.objective <= full.objective * Decimal(1 + policy.mip_gap)
    assert full.objective <= at_scale.objective * Decimal(1 + policy.mip_gap)
    check_caps(at_scale, candidates, demand, policy)
    return at_scale


@pytest.mark.parametrize("share", [0.3, 0.8])
def test_a_large_pool_gets_the_full_models_quantity_within_the_gap_of_its_cost(share: float) -> None:
    candidates = weavers(2_000, seed=7)
    agree(candidates, share_of_capacity(candidates, share), COSTS)


def test_msmes_with_several_products_stay_within_their_share_cap() -> None:
    candidates = weavers(240, seed=11, products_per_msme=3)
    demand = share_of_capacity(candidates, 0.3)
    agree(candidates, demand, replace(COSTS, max_share=Decimal("0.02")))  # binds: below 3 products' capacity


def test_a_minimum_number_of_msmes_holds_in_a_large_pool() -> None:
    candidates = weavers(2_000, seed=5)
    demand = share_of_capacity(candidates, 0.05)  # the cheapest few hundred would do
    proposal = agree(candidates, demand, replace(COSTS, min_msmes=400))
    assert len({a.msme_id for a in proposal.allocations}) >= 400


def test_more_demand_than_capacity_takes_everything_the_msmes_can_make() -> None:
    candidates = weavers(2_000, seed=3)
    demand = share_of_capacity(candidates, 1.2)
    proposal = agree(candidates, demand, replace(COSTS, max_share=None))
    assert proposal.allocated == sum(c.window_capacity for c in candidates)


def test_the_restricted_model_settles_a_large_pool_itself() -> None:
    """Not by falling back to the full model: the answer comes from the rounds, with its gap proven."""
    candidates = weavers(3_000, seed=13)
    demand = share_of_capacity(candidates, 0.3)
    offers, _ = screen(demand, candidates, COSTS)
    caps = msme_caps(offers)
    start = greedy_fill(offers, demand.quantity, caps)
    table = TierTable.of(offers, caps)
    outcome = solve(table, demand.quantity, None, start, Stopwatch(deadline=float("inf")), mip_gap=0.01)
    assert outcome is not None and outcome.status == "optimal" and outcome.mip_gap <= 0.01
    assert sum(outcome.quantities.values()) == demand.quantity
    assert table.cost(outcome.quantities) < table.cost(start), "better than the greedy filling"
