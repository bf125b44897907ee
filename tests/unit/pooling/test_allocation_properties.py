"""Properties of the allocation engine on small random pools, checked against an exhaustive search.

The pools and the exhaustive search, written from the rules and not from the engine, are in ``small_pools``.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from services.pooling.domain.allocation import ProposalStatus, allocate, greedy
from tests.unit.pooling.small_pools import (
    Pool,
    assert_optimal,
    check_feasible,
    close,
    exhaustive,
    pools,
    quantity_range,
)

pytestmark = pytest.mark.unit


@settings(max_examples=100, deadline=None)
@given(pools())
def test_allocation_is_feasible_and_optimal_against_exhaustive_search(pool: Pool) -> None:
    proposal = allocate(pool.demand, pool.candidates, pool.policy)
    expected = exhaustive(pool)
    if not any(quantity_range(c, pool) for c in pool.candidates):
        assert proposal.status == ProposalStatus.NO_CANDIDATES
        assert proposal.allocations == ()
        return
    if expected is None:
        assert proposal.status == ProposalStatus.INFEASIBLE and proposal.allocations == ()
        return
    assert_optimal(proposal, pool, expected)
    assert bool(proposal.binding_reasons) == (proposal.shortfall > 0)


@settings(max_examples=100, deadline=None)
@given(pools())
def test_greedy_is_feasible_and_never_cheaper_at_the_same_quantity(pool: Pool) -> None:
    baseline = greedy(pool.demand, pool.candidates, pool.policy)
    check_feasible(baseline, pool)
    proposal = allocate(pool.demand, pool.candidates, pool.policy)
    if proposal.status == ProposalStatus.OPTIMAL and pool.policy.min_msmes is None:
        assert proposal.allocated >= baseline.allocated
    meets_minimum = len(baseline.allocations) >= (pool.policy.min_msmes or 0)  # greedy ignores min_msmes
    if proposal.status == ProposalStatus.OPTIMAL and proposal.allocated == baseline.allocated and meets_minimum:
        assert proposal.objective <= baseline.objective or close(proposal.objective, baseline.objective)
