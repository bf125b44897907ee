"""The quality score: an explicit prior of 0.5, bounded in [0, 1], better with accepted lots and fewer defects."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events.quality import ClassRecord
from services.quality.domain.scoring import acceptance, conformance, process_average, quality_score

pytestmark = pytest.mark.unit


def major(sampled: int, defects: int, aql: str = "1.0") -> ClassRecord:
    return ClassRecord(defect_class="major", aql=Decimal(aql), sampled_units=sampled, defects=defects)


def test_no_history_scores_the_explicit_prior_of_one_half() -> None:
    assert quality_score(0, 0, []) == 0.5
    assert quality_score(0, 0, [major(0, 0)]) == 0.5
    assert process_average([]) is None and process_average([major(0, 0)]) is None


def test_a_process_exactly_at_its_aql_with_even_lots_stays_at_one_half() -> None:
    assert conformance([major(1_000, 10)]) == pytest.approx(0.5)
    assert acceptance(4, 4) == 0.5


def test_clean_accepted_lots_approach_one_and_defective_rejected_lots_approach_zero() -> None:
    assert quality_score(50, 0, [major(5_000, 0)]) > 0.95
    assert quality_score(0, 50, [major(5_000, 500)]) < 0.06


def test_the_process_average_sums_each_classes_defects_per_hundred_units() -> None:
    minor = ClassRecord(defect_class="minor", aql=Decimal("4.0"), sampled_units=50, defects=3)
    assert process_average([major(200, 1), minor]) == pytest.approx(0.5 + 6.0)


counts = st.integers(min_value=0, max_value=10_000)


@settings(max_examples=200, deadline=None)
@given(accepted=counts, rejected=counts, sampled=counts, defects=counts, more=st.integers(min_value=1, max_value=500))
def test_the_score_is_in_the_unit_interval_and_moves_the_right_way(
    accepted: int, rejected: int, sampled: int, defects: int, more: int
) -> None:
    score = quality_score(accepted, rejected, [major(sampled, defects)])
    assert 0 <= score <= 1
    assert quality_score(accepted + 1, rejected, [major(sampled, defects)]) >= score
    assert quality_score(accepted, rejected + 1, [major(sampled, defects)]) <= score
    assert quality_score(accepted, rejected, [major(sampled + more, defects)]) >= score
    assert quality_score(accepted, rejected, [major(sampled, defects + more)]) <= score
