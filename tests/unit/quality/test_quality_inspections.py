"""Inspections: plans per defect class at the MSME's severity, one verdict per class and for the lot, once."""

from __future__ import annotations

from dataclasses import replace as replace
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

import pytest

from events.quality import (
    Check,
    DefectClass,
    DefectClassAql,
    FirstArticleApproved,
    FirstArticleRejected,
    InspectionOpened,
    LotAccepted,
    LotRejected,
    MeasuredAttribute,
    StandardVersionSpec,
)
from services.quality.domain.inspection import (
    INSPECTION,
    InspectionEvent,
    LotStatus,
    OpenFirstArticle,
    OpenLotInspection,
    RecordResults,
    StandardUsed,
)
from services.quality.domain.sampling import Severity
from services.quality.domain.switching import InspectionDiscontinued
from services.quality.domain.verdicts import MeasuredValues
from shared.kernel.errors import Conflict
from tests.support.given import invalid_fields, then, then_raises

pytestmark = pytest.mark.unit

AT = datetime(2027, 2, 3, 9, 30, tzinfo=UTC)
INSPECTION_ID = UUID("01890000-0000-7000-8000-0000000000a1")
LOT, POOL, MSME, PRODUCT = (UUID(f"01890000-0000-7000-8000-00000000000{n}") for n in range(1, 5))
STANDARD_ID = UUID("01890000-0000-7000-8000-0000000000b1")

SPEC = StandardVersionSpec(
    attributes=[
        MeasuredAttribute(
            name="diameter",
            unit="cm",
            nominal=Decimal(30),
            lower_tolerance=Decimal("0.5"),
            upper_tolerance=Decimal("0.5"),
            defect_class="major",
        )
    ],
    checks=[Check(name="weave is tight", defect_class="minor")],
    defect_classes=[
        DefectClassAql(defect_class="critical", aql=Decimal("0.065")),
        DefectClassAql(defect_class="major", aql=Decimal("1.0")),
        DefectClassAql(defect_class="minor", aql=Decimal("4.0")),
    ],
    inspection_level="II",
)
USED = StandardUsed(STANDARD_ID, 1, SPEC)


def open_lot(
    lot_size: int = 500, severity: Severity = Severity.NORMAL, discontinued: bool = False
) -> OpenLotInspection:
    return OpenLotInspection(
        inspection_id=INSPECTION_ID,
        lot_id=LOT,
        pool_id=POOL,
        msme_id=MSME,
        lot_size=lot_size,
        resubmitted=False,
        standard=USED,
        severity=severity,
        discontinued=discontinued,
        inspector_org="qc-co",
        by="ana",
        at=AT,
    )


def results(critical: int = 0, major: int = 0, minor: int = 0, *measurements: MeasuredValues) -> RecordResults:
    defects: dict[DefectClass, int] = {"critical": critical, "major": major, "minor": minor}
    return RecordResults(defects=defects, measurements=measurements, spec=SPEC, by="ana", at=AT)


def plans_of(events: list[InspectionEvent]) -> dict[str, tuple[int, int, int]]:
    opened = events[0]
    assert isinstance(opened, InspectionOpened)
    return {p.defect_class: (p.sample_size, p.accept, p.reject) for p in opened.plans}


def test_a_lot_of_500_on_normal_inspection_gets_iso_2859_plans_per_class() -> None:
    opened = then(INSPECTION, [], open_lot())
    # Code letter H (level II); critical 0.065 follows the arrow down to L, n = 200.
    assert plans_of(opened) == {"critical": (200, 0, 1), "major": (50, 1, 2), "minor": (50, 5, 6)}
    assert isinstance(opened[0], InspectionOpened)
    assert {p.code_letter for p in opened[0].plans} == {"H"}


def test_tightened_inspection_takes_larger_samples_or_smaller_acceptance_numbers() -> None:
    assert plans_of(then(INSPECTION, [], open_lot(severity=Severity.TIGHTENED))) == {
        "critical": (315, 0, 1),
        "major": (80, 1, 2),
        "minor": (50, 3, 4),
    }


def test_a_small_lot_is_inspected_whole_with_the_same_acceptance_numbers() -> None:
    opened = then(INSPECTION, [], open_lot(lot_size=40))
    opened_event = opened[0]
    assert isinstance(opened_event, InspectionOpened)
    critical = next(p for p in opened_event.plans if p.defect_class == "critical")
    assert critical.inspect_whole_lot and critical.sample_size == 40 and (critical.accept, critical.reject) == (0, 1)


def test_a_discontinued_msme_cannot_have_a_lot_or_first_article_opened() -> None:
    then_raises(INSPECTION, [], open_lot(discontinued=True), InspectionDiscontinued)
    first_article = OpenFirstArticle(INSPECTION_ID, MSME, PRODUCT, 5, USED, True, "qc-co", "ana", AT)
    then_raises(INSPECTION, [], first_article, InspectionDiscontinued)


def test_a_lot_is_accepted_only_when_every_class_is_within_its_acceptance_number() -> None:
    given = then(INSPECTION, [], open_lot())
    accepted = then(INSPECTION, given, results(0, 1, 5))
    assert isinstance(accepted[0], LotAccepted)
    assert [v.accepted for v in accepted[0].verdicts] == [True, True, True]
    rejected = then(INSPECTION, given, results(0, 2, 0))
    verdict = rejected[0]
    assert isinstance(verdict, LotRejected)
    assert verdict.lot_id == LOT and verdict.pool_id == POOL and verdict.lot_size == 500
    assert [v.accepted for v in verdict.verdicts] == [True, False, True]
    assert verdict.reasons == ["major: 2 defects in a sample of 50 reaches Re 2 (AQL 1.0): rejected"]


def test_an_out_of_tolerance_measurement_counts_as_a_defect_of_its_attributes_class() -> None:
    given = then(INSPECTION, [], open_lot())
    diameters = MeasuredValues("Diameter", (Decimal("30.5"), Decimal("29.5"), Decimal("30.6"), Decimal("29.4")))
    verdict = then(INSPECTION, given, results(0, 0, 0, diameters))[0]
    assert isinstance(verdict, LotRejected)
    major = next(v for v in verdict.verdicts if v.defect_class == "major")
    assert (major.reported_defects, major.measurement_defects, major.defects) == (0, 2, 2)
    assert verdict.measurements[0].attribute == "diameter" and verdict.measurements[0].out_of_tolerance == 2
    assert "2 out-of-tolerance measurements" in verdict.reasons[0]


def test_results_are_recorded_once() -> None:
    given = then(INSPECTION, [], open_lot())
    given += then(INSPECTION, given, results())
    refused = then_raises(INSPECTION, given, results(), Conflict)
    assert refused.problem == "results-recorded"


def test_results_name_every_bad_field() -> None:
    given = then(INSPECTION, [], open_lot())
    too_many = MeasuredValues("diameter", tuple(Decimal(30) for _ in range(51)))
    unknown = MeasuredValues("height", (Decimal(1),))
    bad = RecordResults(
        defects={"critical": 0},
        measurements=(too_many, unknown),
        spec=SPEC,
        by="ana",
        at=AT,
    )
    assert invalid_fields(INSPECTION, given, bad) == {
        "measurements[0].values",
        "measurements[1].attribute",
    }
    missing = RecordResults(defects={"critical": 0}, measurements=(), spec=SPEC, by="ana", at=AT)
    assert invalid_fields(INSPECTION, given, missing) == {"defects.major", "defects.minor"}


def test_a_first_article_must_conform_in_every_sampled_unit() -> None:
    given = then(INSPECTION, [], OpenFirstArticle(INSPECTION_ID, MSME, PRODUCT, 5, USED, False, "qc-co", "ana", AT))
    assert plans_of(given) == {"critical": (5, 0, 1), "major": (5, 0, 1), "minor": (5, 0, 1)}
    approved = then(INSPECTION, given, results())[0]
    assert isinstance(approved, FirstArticleApproved) and approved.product_id == PRODUCT
    assert isinstance(then(INSPECTION, given, results(minor=1))[0], FirstArticleRejected)


def test_a_lot_is_judged_once_and_after_a_rejection_comes_back_only_as_resubmitted() -> None:
    def reopen(*earlier: LotStatus, resubmitted: bool = False) -> OpenLotInspection:
        return replace(open_lot(), earlier=earlier, resubmitted=resubmitted)

    open_one = then_raises(INSPECTION, [], reopen("rejected", "open", resubmitted=True), Conflict)
    assert open_one.problem == "lot-under-inspection"
    accepted = then_raises(INSPECTION, [], reopen("accepted", resubmitted=True), Conflict)
    assert accepted.problem == "lot-already-accepted"
    assert invalid_fields(INSPECTION, [], reopen("rejected")) == {"resubmitted"}
    opened = then(INSPECTION, [], reopen("rejected", "rejected", resubmitted=True))[0]
    assert isinstance(opened, InspectionOpened) and opened.resubmitted


def test_another_organisation_may_judge_a_lot_already_judged_as_a_second_opinion() -> None:
    second = replace(open_lot(), earlier=(), second_opinion=True)  # a buyer's lab, after the aggregator's QC
    opened = then(INSPECTION, [], second)
    assert isinstance(opened[0], InspectionOpened) and opened[0].second_opinion
    verdict = then(INSPECTION, opened, results(major=40))[0]
    assert isinstance(verdict, LotRejected) and verdict.second_opinion
    again = replace(second, earlier=("accepted",))  # but each organisation judges the lot once
    assert then_raises(INSPECTION, [], again, Conflict).problem == "lot-already-accepted"
