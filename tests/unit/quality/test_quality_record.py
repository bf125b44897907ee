"""An MSME's record under a standard: switching on every verdict, qualification, and full assessments."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

import msgspec
import pytest

from events.quality import (
    DefectClassAql,
    InspectionDiscontinued,
    InspectionResumed,
    LotAccepted,
    LotRejected,
    MsmeDisqualified,
    MsmeQualified,
    MsmeQualityAssessed,
    SeverityChanged,
    StandardVersionSpec,
)
from services.quality.domain.assessment import QualityRecord
from services.quality.domain.inspection import (
    INSPECTION,
    OpenFirstArticle,
    OpenLotInspection,
    RecordResults,
    StandardUsed,
)
from services.quality.domain.quality_record import (
    QUALITY_RECORD,
    RecordEvent,
    RecordFirstArticle,
    RecordLot,
    ResumeInspection,
    verdict_outcome,
)
from services.quality.domain.sampling import InspectionLevel, Severity
from services.quality.domain.switching import NotDiscontinued

pytestmark = pytest.mark.unit

AT = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)
MSME = UUID("01890000-0000-7000-8000-000000000001")
STANDARD_ID = UUID("01890000-0000-7000-8000-0000000000b1")

SPEC = StandardVersionSpec(
    attributes=[],
    checks=[],
    defect_classes=[
        DefectClassAql(defect_class="major", aql=Decimal("1.0")),
        DefectClassAql(defect_class="minor", aql=Decimal("4.0")),
    ],
    inspection_level="II",
    qualification_lots=3,
)


class Msme:
    """An MSME's record, fed lot by lot through the inspection decider as the API does."""

    def __init__(self, spec: StandardVersionSpec = SPEC) -> None:
        self.spec = spec
        self.history: list[RecordEvent] = []
        self.lots = 0

    @property
    def record(self) -> QualityRecord:
        return QUALITY_RECORD.fold(self.history)

    def lot(
        self, major: int = 0, minor: int = 0, *, lot_size: int = 500, resubmitted: bool = False, second: bool = False
    ) -> list[RecordEvent]:
        self.lots += 1
        inspection_id = UUID(int=self.lots)
        opened = INSPECTION.decide(
            OpenLotInspection(
                inspection_id=inspection_id,
                lot_id=UUID(int=1000 + self.lots),
                pool_id=UUID(int=7),
                msme_id=MSME,
                lot_size=lot_size,
                resubmitted=resubmitted,
                standard=StandardUsed(STANDARD_ID, 1, self.spec),
                severity=self.record.switching.severity,
                discontinued=False,
                inspector_org="qc-co",
                by="ana",
                at=AT,
                second_opinion=second,
            ),
            INSPECTION.initial_state,
        )
        verdict = INSPECTION.decide(
            RecordResults({"major": major, "minor": minor}, (), self.spec, "ana", AT), INSPECTION.fold(opened)
        )[0]
        assert isinstance(verdict, LotAccepted | LotRejected)
        return self._apply(RecordLot(verdict, self.spec))

    def first_article(self, minor: int = 0) -> list[RecordEvent]:
        standard = StandardUsed(STANDARD_ID, 1, self.spec)
        opened = INSPECTION.decide(
            OpenFirstArticle(UUID(int=99), MSME, UUID(int=5), 5, standard, False, "qc-co", "ana", AT),
            INSPECTION.initial_state,
        )
        verdict = INSPECTION.decide(
            RecordResults({"major": 0, "minor": minor}, (), self.spec, "ana", AT), INSPECTION.fold(opened)
        )[0]
        assert not isinstance(verdict, LotAccepted | LotRejected)
        return self._apply(RecordFirstArticle(verdict, self.spec))  # type: ignore[arg-type]

    def resume(self) -> list[RecordEvent]:
        return self._apply(ResumeInspection(MSME, STANDARD_ID, "new moisture control", "qc-co", "ana", AT))

    def _apply(self, command: RecordLot | RecordFirstArticle | ResumeInspection) -> list[RecordEvent]:
        events = list(QUALITY_RECORD.decide(command, self.record))
        self.history += events
        assert not events or isinstance(events[-1], MsmeQualityAssessed), "every change ends with an assessment"
        return events

    @property
    def assessed(self) -> MsmeQualityAssessed:
        last = self.history[-1]
        assert isinstance(last, MsmeQualityAssessed)
        return last


def kinds(events: list[RecordEvent]) -> list[type]:
    return [type(e) for e in events]


def test_an_msme_qualifies_after_the_standards_number_of_accepted_lots() -> None:
    msme = Msme()
    assert kinds(msme.lot()) == [MsmeQualityAssessed]
    msme.lot(major=2)
    assert kinds(msme.lot()) == [MsmeQualityAssessed]
    qualified = msme.lot()
    assert kinds(qualified) == [MsmeQualified, MsmeQualityAssessed]
    assert qualified[0].basis == "accepted_lots"  # type: ignore[union-attr]
    assert msme.assessed.qualified and msme.assessed.qualified_by == "accepted_lots"
    assert (msme.assessed.lots_accepted, msme.assessed.lots_rejected) == (3, 1)
    assert kinds(msme.lot()) == [MsmeQualityAssessed], "qualification is announced once"


def test_an_approved_first_article_qualifies_at_once_a_rejected_one_does_not() -> None:
    msme = Msme()
    assert kinds(msme.first_article(minor=1)) == [MsmeQualityAssessed]
    assert not msme.assessed.qualified and msme.assessed.first_articles_rejected == 1
    assert kinds(msme.first_article()) == [MsmeQualified, MsmeQualityAssessed]
    assert msme.assessed.qualified_by == "first_article"
    assert msme.assessed.lots_accepted == 0 and msme.assessed.process_average is None


def test_two_of_five_original_lots_not_accepted_tighten_inspection() -> None:
    msme = Msme()
    msme.lot(major=2)
    msme.lot()
    events = msme.lot(major=3)
    changed = events[0]
    assert isinstance(changed, SeverityChanged)
    assert (changed.previous, changed.severity) == ("normal", "tightened")
    assert "2 of 5" in changed.reason
    assert msme.assessed.severity == "tightened"


def test_a_resubmitted_lot_counts_as_a_lot_but_not_for_switching_or_the_process_average() -> None:
    msme = Msme()
    msme.lot(major=2)
    events = msme.lot(major=2, resubmitted=True)
    assert kinds(events) == [MsmeQualityAssessed]
    assert msme.assessed.severity == "normal" and msme.assessed.lots_rejected == 2
    major = next(c for c in msme.assessed.classes if c.defect_class == "major")
    assert (major.sampled_units, major.defects) == (50, 2)


def test_a_second_opinion_on_a_lot_leaves_the_record_as_it_was() -> None:
    """Another organisation's verdict on a lot already judged: the lot counted once, as first judged."""
    msme = Msme()
    msme.lot(major=2)
    before = msme.record
    assert msme.lot(major=3, second=True) == [] and msme.lot(second=True) == []
    assert msme.record == before and (msme.assessed.lots_accepted, msme.assessed.lots_rejected) == (0, 1)


def test_five_lots_not_accepted_on_tightened_discontinue_and_disqualify_until_resumed_at_tightened() -> None:
    msme = Msme()
    msme.first_article()
    msme.lot(major=2)
    msme.lot(major=2)
    assert msme.assessed.severity == "tightened"
    for _ in range(4):
        assert kinds(msme.lot(major=2)) == [MsmeQualityAssessed]
    last = msme.lot(major=2)
    assert kinds(last) == [InspectionDiscontinued, MsmeDisqualified, MsmeQualityAssessed]
    assert msme.assessed.discontinued and not msme.assessed.qualified
    assert msme.record.discontinued
    resumed = msme.resume()
    assert kinds(resumed) == [InspectionResumed, MsmeQualityAssessed]
    assert msme.assessed.severity == "tightened" and not msme.assessed.discontinued
    assert not msme.assessed.qualified, "qualification lost on discontinuation must be earned again"
    with pytest.raises(NotDiscontinued):
        msme.resume()


def test_five_consecutive_accepted_lots_on_tightened_return_to_normal() -> None:
    msme = Msme()
    msme.lot(major=2)
    msme.lot(major=2)
    for _ in range(4):
        msme.lot()
    events = msme.lot()
    changed = next(e for e in events if isinstance(e, SeverityChanged))
    assert (changed.previous, changed.severity) == ("tightened", "normal")


def test_reduced_inspection_needs_the_standards_permission_and_a_switching_score_of_30() -> None:
    allowed = Msme(msgspec.structs.replace(SPEC, allow_reduced=True))
    forbidden = Msme()
    for _ in range(9):  # each clean lot earns 3: minor's Ac is 5 and it would pass at AQL 2.5 too
        allowed.lot()
        forbidden.lot()
    assert allowed.assessed.switching_score == 27 and allowed.assessed.severity == "normal"
    events = allowed.lot()
    assert isinstance(events[0], SeverityChanged) and events[0].severity == "reduced"
    forbidden.lot()
    assert forbidden.assessed.severity == "normal" and forbidden.assessed.switching_score == 30
    back = allowed.lot(major=1, minor=20)
    assert isinstance(back[0], SeverityChanged) and (back[0].previous, back[0].severity) == ("reduced", "normal")


def test_the_assessment_carries_the_whole_record_so_it_alone_rebuilds_it() -> None:
    msme = Msme()
    msme.lot(minor=3)
    msme.lot(major=2)
    msme.first_article()
    rebuilt = QUALITY_RECORD.fold([msme.assessed])
    assert rebuilt == msme.record
    assessed = msme.assessed
    assert assessed.process_average == pytest.approx(100 * 2 / 100 + 100 * 3 / 100)
    assert 0 < assessed.score < 1 and "Beta(1, 1)" in assessed.score_method


def test_a_lot_with_acceptance_numbers_of_2_or_more_earns_3_only_if_it_passes_one_step_tighter() -> None:
    msme = Msme()
    # Minor at AQL 4.0 on code letter H: n 50, Ac 5; one step tighter (2.5) has Ac 3.
    msme.lot(minor=3)
    assert msme.assessed.switching_score == 3
    msme.lot(minor=4)
    assert msme.assessed.switching_score == 0, "accepted, but would have failed at AQL 2.5: back to 0"
    assert msme.assessed.lots_accepted == 2


def test_a_verdicts_outcome_is_accepted_by_all_classes_and_scored_by_those_with_acceptance_numbers_of_2_or_more() -> (
    None
):
    opened = INSPECTION.decide(
        OpenLotInspection(
            UUID(int=1),
            UUID(int=2),
            UUID(int=3),
            MSME,
            500,
            True,
            StandardUsed(STANDARD_ID, 1, SPEC),
            Severity.NORMAL,
            False,
            "qc-co",
            "ana",
            AT,
        ),
        INSPECTION.initial_state,
    )
    verdict = INSPECTION.decide(RecordResults({"major": 1, "minor": 2}, (), SPEC, "ana", AT), INSPECTION.fold(opened))[
        0
    ]
    assert isinstance(verdict, LotAccepted)
    outcome = verdict_outcome(verdict, InspectionLevel.II)
    assert outcome.accepted and not outcome.original
    assert outcome.accept_number == 5 and outcome.accepted_one_step_tighter
