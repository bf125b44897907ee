"""Candidates for the engine from what pooling knows: the delivery window, certifications valid through
required-by, probation without a quality record, distance to the consolidation point."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from uuid import UUID

import pytest

from services.pooling.domain.candidates import (
    PRIOR_SCORE,
    Certificate,
    Offering,
    QualityRecord,
    candidate,
    window,
)
from shared.kernel.months import months_from

pytestmark = pytest.mark.unit

TODAY = date(2027, 1, 4)
OFFERING = Offering(
    product_id=UUID(int=1), msme_id=UUID(int=2), msme_name="Rotan Cirebon", city="Cirebon", suspended=False, moq=50,
    price_tiers=((1, Decimal("4.10")), (500, Decimal("3.90"))), currency="USD", lead_time_days=30,
)  # fmt: skip


def test_the_window_runs_from_this_month_to_required_by_less_the_lead_time() -> None:
    assert window(TODAY, date(2027, 4, 15), 30) == ["2027-01", "2027-02", "2027-03"]
    assert window(TODAY, date(2027, 1, 20), 30) == []
    assert months_from("2026-11", "2027-02") == ["2026-11", "2026-12", "2027-01", "2027-02"]


def test_only_free_capacity_inside_the_window_counts() -> None:
    free = {"2027-01": 0, "2027-02": 200, "2027-03": 100, "2027-04": 900}
    made = candidate(
        OFFERING, None, [], free, today=TODAY, required_by=date(2027, 4, 15), consolidation_point="Semarang"
    )
    assert made.monthly_capacity == (("2027-02", 200), ("2027-03", 100))
    assert 150 < made.distance_km < 250  # Cirebon to Semarang


def test_no_quality_record_means_probation_at_the_prior_score() -> None:
    made = candidate(OFFERING, None, [], {}, today=TODAY, required_by=date(2027, 4, 1), consolidation_point="IDSRG")
    assert (made.qualified, made.on_probation, made.quality_score) == (False, True, PRIOR_SCORE)
    disqualified = QualityRecord(False, True, True, "tightened", False, 0.2)
    made = candidate(
        OFFERING, disqualified, [], {}, today=TODAY, required_by=date(2027, 4, 1), consolidation_point="IDSRG"
    )
    assert (made.qualified, made.on_probation, made.severity) == (False, False, "tightened")


def test_a_certification_counts_when_valid_from_today_through_required_by() -> None:
    certificates = [
        Certificate("halal", date(2026, 1, 1), date(2028, 1, 1)),
        Certificate("svlk", date(2026, 1, 1), date(2027, 2, 1)),
        Certificate("sni", date(2027, 2, 1), date(2029, 1, 1)),
    ]
    made = candidate(
        OFFERING, None, certificates, {}, today=TODAY, required_by=date(2027, 4, 1), consolidation_point="IDSRG"
    )
    assert made.certifications == frozenset({"halal"})


def test_an_unknown_city_has_no_logistics_distance() -> None:
    elsewhere = replace(OFFERING, city="Atlantis")
    made = candidate(elsewhere, None, [], {}, today=TODAY, required_by=date(2027, 4, 1), consolidation_point="IDSRG")
    assert made.distance_km == 0.0
