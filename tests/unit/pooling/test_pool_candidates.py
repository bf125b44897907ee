"""Candidates for the engine from what pooling knows: the delivery window, certifications valid through the
delivery month and covering the product, probation without a quality record, distance to the consolidation
point."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from uuid import UUID

import pytest

from events.catalog import CertificationScope
from services.pooling.domain.allocation import Demand, ExclusionReason, Policy, allocate
from services.pooling.domain.candidates import (
    PRIOR_SCORE,
    Certificate,
    Offering,
    QualityRecord,
    candidate,
    delivery_month,
    required_certifications,
    window,
)
from shared.kernel.months import months_from

pytestmark = pytest.mark.unit

TODAY = date(2027, 1, 4)
OFFERING = Offering(
    product_id=UUID(int=1), msme_id=UUID(int=2), msme_name="Rotan Cirebon", city="Cirebon", suspended=False, moq=50,
    price_tiers=((1, Decimal("4.10")), (500, Decimal("3.90"))), currency="USD", lead_time_days=30,
    hs_code="19059090",
)  # fmt: skip
REQUIRED_BY = date(2027, 4, 15)  # less 30 days' lead time: the delivery month is March 2027


def with_certificates(*certificates: Certificate) -> tuple[frozenset[str], dict[str, str]]:
    made = candidate(
        OFFERING, None, certificates, {"2027-03": 500}, today=TODAY, required_by=REQUIRED_BY,
        consolidation_point="IDSRG",
    )  # fmt: skip
    return made.certifications, dict(made.certification_notes)


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


def test_a_certification_counts_when_valid_from_today_through_the_delivery_month() -> None:
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


def test_the_delivery_month_is_the_last_month_a_plan_may_book() -> None:
    assert delivery_month(REQUIRED_BY, 30) == "2027-03" == window(TODAY, REQUIRED_BY, 30)[-1]


def test_a_certificate_expiring_before_the_delivery_month_ends_does_not_count_and_says_when_it_expires() -> None:
    month_before = Certificate("halal", date(2025, 1, 1), date(2027, 2, 28), "ID0041-A")
    assert with_certificates(month_before) == (
        frozenset(),
        {"halal": "the halal certificate ID0041-A expires on 2027-02-28, before the end of the delivery month 2027-03"},
    )
    mid_month = Certificate("halal", date(2025, 1, 1), date(2027, 3, 20), "ID0041-B")
    assert "expires on 2027-03-20" in with_certificates(mid_month)[1]["halal"]
    through = Certificate("halal", date(2025, 1, 1), date(2027, 3, 31), "ID0041-C")
    assert with_certificates(through) == (frozenset({"halal"}), {})
    # Before required-by is not enough to be refused: the plan makes nothing after March.
    assert with_certificates(Certificate("halal", date(2025, 1, 1), date(2027, 4, 1), "D"))[0] == {"halal"}


def test_of_several_certificates_of_a_kind_the_best_one_counts_or_explains() -> None:
    old = Certificate("bpom", date(2024, 1, 1), date(2026, 12, 31), "MD-1")
    short = Certificate("bpom", date(2025, 1, 1), date(2027, 2, 15), "MD-2")
    assert with_certificates(old, short)[1] == {
        "bpom": "the bpom certificate MD-2 expires on 2027-02-15, before the end of the delivery month 2027-03"
    }
    renewed = Certificate("bpom", date(2027, 2, 1), date(2030, 1, 31), "MD-3")
    assert with_certificates(old, short, renewed)[1] == {
        "bpom": "the bpom certificate MD-3 is valid only from 2027-02-01"
    }
    assert with_certificates(short, Certificate("bpom", date(2026, 1, 1), date(2030, 1, 1), "MD-4"))[0] == {"bpom"}


def test_a_certificate_counts_only_for_the_products_its_scope_covers() -> None:
    crackers = CertificationScope(hs_prefixes=["1905"])
    baskets = CertificationScope(hs_prefixes=["4602"], product_ids=[UUID(int=99)])
    assert with_certificates(Certificate("halal", date(2025, 1, 1), date(2030, 1, 1), "H-1", crackers))[0] == {"halal"}
    by_id = CertificationScope(product_ids=[OFFERING.product_id])
    assert with_certificates(Certificate("halal", date(2025, 1, 1), date(2030, 1, 1), "H-2", by_id))[0] == {"halal"}
    assert with_certificates(Certificate("halal", date(2025, 1, 1), date(2030, 1, 1), "H-3", baskets)) == (
        frozenset(),
        {"halal": "the halal certificate H-3 does not cover this product"},
    )


def test_the_engine_leaves_out_an_msme_whose_certificate_falls_short_and_says_which() -> None:
    short = candidate(
        OFFERING, QualityRecord(True, False, False, "normal", False, 0.9),
        [Certificate("halal", date(2025, 1, 1), date(2027, 2, 28), "ID0041-A")], {"2027-03": 500},
        today=TODAY, required_by=REQUIRED_BY, consolidation_point="IDSRG",
    )  # fmt: skip
    proposal = allocate(Demand(100, "USD", frozenset({"halal"})), [short], Policy())
    [left_out] = proposal.excluded
    assert left_out.reason == ExclusionReason.MISSING_CERTIFICATION
    assert left_out.detail == (
        "the halal certificate ID0041-A expires on 2027-02-28, before the end of the delivery month 2027-03"
    )
    nothing = replace(short, certification_notes=())
    assert allocate(Demand(100, "USD", frozenset({"halal"})), [nothing], Policy()).excluded[0].detail == (
        "no halal certificate"
    )


def test_halal_for_food_is_required_only_of_food_and_only_when_the_pool_asks() -> None:
    assert required_certifications(["sni"], halal_for_food=True, hs_code="19059090") == {"sni", "halal"}
    assert required_certifications([], halal_for_food=True, hs_code="090111") == {"halal"}
    assert required_certifications([], halal_for_food=True, hs_code="2202") == {"halal"}  # beverages
    assert required_certifications([], halal_for_food=True, hs_code="460212") == frozenset()  # baskets
    assert required_certifications([], halal_for_food=False, hs_code="19059090") == frozenset()
