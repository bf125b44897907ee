"""Properties ISO 2859-1 guarantees for every lot, AQL and inspection level.

- Table 1 gives a larger lot a code letter at least as large, and the master tables give a later
  letter a plan at least as large, so a larger lot never gets a smaller sample (the whole-lot rule
  caps both at the lot size).
- Tightened inspection keeps normal's sample size and lowers the acceptance number; where the
  normal plan has Ac = 0 it takes a larger sample instead. So it never inspects fewer items and never
  accepts more nonconforming ones.
- Reduced inspection takes a smaller sample; with the same sample it never accepts fewer
  nonconforming items than normal inspection does.
- Single sampling in the 1999 edition has no gap: Re = Ac + 1.
"""

from __future__ import annotations

from decimal import Decimal
from math import comb

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.quality.domain.sampling import (
    PREFERRED_AQLS,
    InspectionLevel,
    SamplingPlan,
    Severity,
    one_step_tighter,
    passes_one_step_tighter,
    sampling_plan,
)

pytestmark = pytest.mark.unit

lot_sizes = st.one_of(st.integers(2, 600), st.integers(2, 2_000_000))
aqls = st.sampled_from(PREFERRED_AQLS)
levels = st.sampled_from(list(InspectionLevel))
severities = st.sampled_from(list(Severity))


def _binomial_acceptance(plan: SamplingPlan, rate: float) -> float:
    """Probability that a sample of the plan's size, drawn at ``rate`` nonconforming, is accepted."""
    n = plan.sample_size
    return sum(comb(n, d) * rate**d * (1 - rate) ** (n - d) for d in range(min(plan.accept, n) + 1))


@settings(max_examples=300)
@given(lot_sizes, lot_sizes, aqls, levels, severities)
def test_a_larger_lot_never_gets_a_smaller_sample(
    first: int, second: int, aql: Decimal, level: InspectionLevel, severity: Severity
) -> None:
    smaller, larger = sorted((first, second))
    small_plan = sampling_plan(smaller, aql, level, severity)
    large_plan = sampling_plan(larger, aql, level, severity)
    assert small_plan.sample_size <= large_plan.sample_size


@settings(max_examples=300)
@given(lot_sizes, aqls, levels, severities)
def test_the_sample_never_exceeds_the_lot_and_the_whole_lot_rule_is_flagged(
    lot_size: int, aql: Decimal, level: InspectionLevel, severity: Severity
) -> None:
    plan = sampling_plan(lot_size, aql, level, severity)
    assert 2 <= plan.sample_size <= lot_size
    assert plan.inspect_whole_lot == (plan.sample_size == lot_size)
    assert plan.reject == plan.accept + 1


@settings(max_examples=300)
@given(lot_sizes, aqls, levels, st.integers(0, 60))
def test_tightened_inspection_never_accepts_what_normal_inspection_rejects(
    lot_size: int, aql: Decimal, level: InspectionLevel, defects: int
) -> None:
    normal = sampling_plan(lot_size, aql, level, Severity.NORMAL)
    tightened = sampling_plan(lot_size, aql, level, Severity.TIGHTENED)
    assert tightened.sample_size >= normal.sample_size
    assert tightened.accept <= normal.accept
    if tightened.sample_size == normal.sample_size and tightened.accepts(defects):
        assert normal.accepts(defects)
    # A larger sample judged with a smaller Ac accepts no more often, whatever the process rate.
    for rate in (0.001, 0.01, 0.05, 0.2, 0.5):
        assert _binomial_acceptance(tightened, rate) <= _binomial_acceptance(normal, rate) + 1e-12


@settings(max_examples=300)
@given(lot_sizes, aqls, levels, st.integers(0, 60))
def test_reduced_inspection_takes_a_smaller_sample_and_is_no_stricter_on_the_same_sample(
    lot_size: int, aql: Decimal, level: InspectionLevel, defects: int
) -> None:
    normal = sampling_plan(lot_size, aql, level, Severity.NORMAL)
    reduced = sampling_plan(lot_size, aql, level, Severity.REDUCED)
    assert reduced.sample_size <= normal.sample_size
    # Whole-lot inspection cuts both samples to the lot size; only samples the tables chose compare.
    same_table_sample = reduced.sample_size == normal.sample_size and not normal.inspect_whole_lot
    if same_table_sample and normal.accepts(defects):
        assert reduced.accepts(defects)


@settings(max_examples=300)
@given(lot_sizes, aqls, levels, severities, st.integers(0, 60))
def test_passing_one_step_tighter_implies_passing(
    lot_size: int, aql: Decimal, level: InspectionLevel, severity: Severity, defects: int
) -> None:
    plan = sampling_plan(lot_size, aql, level, severity)
    if passes_one_step_tighter(plan, defects):
        assert plan.accepts(defects)


def test_one_step_tighter_walks_down_the_preferred_series() -> None:
    assert one_step_tighter(Decimal("1.0")) == Decimal("0.65")
    assert one_step_tighter(Decimal("10")) == Decimal("6.5")
    assert one_step_tighter(Decimal("0.015")) == Decimal("0.010")
    assert one_step_tighter(Decimal("0.010")) is None
    steps = [one_step_tighter(aql) for aql in PREFERRED_AQLS[1:]]
    assert steps == list(PREFERRED_AQLS[:-1])


@pytest.mark.parametrize(
    ("lot_size", "aql", "defects", "passes"),
    [
        # lot 1000, level II, normal -> J (80). AQL 2.5: Ac 5; one step tighter (1.5): Ac 3
        (1000, "2.5", 3, True),
        (1000, "2.5", 4, False),
        (1000, "2.5", 6, False),
        # AQL 1.0: Ac 2; one step tighter (0.65): Ac 1
        (1000, "1.0", 1, True),
        (1000, "1.0", 2, False),
        # AQL 0.65: Ac 1; the tighter column of row J holds an arrow, so it cannot be judged there
        (1000, "0.65", 0, False),
    ],
)
def test_passing_one_step_tighter_reads_the_same_row_one_aql_to_the_left(
    lot_size: int, aql: str, defects: int, passes: bool
) -> None:
    plan = sampling_plan(lot_size, Decimal(aql), InspectionLevel.II, Severity.NORMAL)
    assert passes_one_step_tighter(plan, defects) is passes
