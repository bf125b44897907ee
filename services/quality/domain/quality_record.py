"""An MSME's quality record under one standard: ISO 2859-1 switching, qualification, counts and score.

One stream per (MSME, standard), across the standard's versions. Every decision ends with
``MsmeQualityAssessed``, which carries the whole record, so ``evolve`` needs nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Final, assert_never
from uuid import UUID

from events.quality import (
    ClassRecord,
    FirstArticleApproved,
    FirstArticleRejected,
    InspectionDiscontinued,
    InspectionResumed,
    LotAccepted,
    LotRejected,
    MsmeDisqualified,
    MsmeQualified,
    MsmeQualityAssessed,
    QualificationBasis,
    SeverityChanged,
    StandardVersionSpec,
)
from services.quality.domain import switching
from services.quality.domain.assessment import QualityRecord, assessment, from_assessment
from services.quality.domain.sampling import InspectionLevel, Severity, sampling_plan
from shared.kernel.decider import Decider

RecordEvent = (
    SeverityChanged
    | InspectionDiscontinued
    | InspectionResumed
    | MsmeQualified
    | MsmeDisqualified
    | MsmeQualityAssessed
)


def record_stream(msme_id: UUID, standard_id: UUID) -> str:
    return f"msme-standard:{msme_id}:{standard_id}"


@dataclass(frozen=True)
class RecordLot:
    """Apply a lot's verdict: counts, switching, qualification."""

    verdict: LotAccepted | LotRejected
    spec: StandardVersionSpec


@dataclass(frozen=True)
class RecordFirstArticle:
    verdict: FirstArticleApproved | FirstArticleRejected
    spec: StandardVersionSpec


@dataclass(frozen=True)
class ResumeInspection:
    msme_id: UUID
    standard_id: UUID
    corrective_action: str
    inspector_org: str
    by: str
    at: datetime


RecordCommand = RecordLot | RecordFirstArticle | ResumeInspection


def verdict_outcome(verdict: LotAccepted | LotRejected, level: InspectionLevel) -> switching.LotOutcome:
    """A lot's verdict as the switching rules see it: each defect class's ``switching.lot_outcome``, combined.

    The lot is accepted when every class is. For the switching score it counts as Ac ≥ 2 when any class
    has Ac ≥ 2, and then it earns 3 only if every such class would also have passed one AQL step tighter.
    """
    original = not verdict.resubmitted
    by_class = [
        switching.lot_outcome(
            sampling_plan(verdict.lot_size, plan.aql, level, Severity(verdict.severity)),
            judged.defects,
            original=original,
        )
        for plan, judged in zip(verdict.plans, verdict.verdicts, strict=True)
    ]
    return switching.LotOutcome(
        accepted=isinstance(verdict, LotAccepted),
        original=original,
        accept_number=max(plan.accept for plan in verdict.plans),
        accepted_one_step_tighter=all(
            outcome.accepted_one_step_tighter
            for plan, outcome in zip(verdict.plans, by_class, strict=True)
            if plan.accept >= 2
        ),
    )


_SWITCH_REASONS: Final = {
    ("normal", "tightened"): "2 of 5 or fewer consecutive original lots were not accepted on normal inspection",
    ("tightened", "normal"): "5 consecutive original lots were accepted on tightened inspection",
    ("normal", "reduced"): "the switching score reached 30 and the standard allows reduced inspection",
    ("reduced", "normal"): "a lot was not accepted on reduced inspection",
}


def decide(command: RecordCommand, state: QualityRecord) -> Sequence[RecordEvent]:
    match command:
        case RecordLot(verdict=verdict, spec=spec):
            return _record_lot(state, verdict, spec)
        case RecordFirstArticle(verdict=verdict, spec=spec):
            return _record_first_article(state, verdict, spec)
        case ResumeInspection():
            after = switching.resume(state.switching)
            resumed = InspectionResumed(
                msme_id=command.msme_id,
                standard_id=command.standard_id,
                corrective_action=command.corrective_action,
                inspector_org=command.inspector_org,
                resumed_by=command.by,
                at=command.at,
            )
            changed = _severity_changed(
                state, after, "corrective action recorded; inspection resumes", None, command.at
            )
            record = replace(state, switching=after)
            return [resumed, *changed, assessment(record, "inspection_resumed", None, command.at)]
        case _:
            assert_never(command)


def _record_lot(
    state: QualityRecord, verdict: LotAccepted | LotRejected, spec: StandardVersionSpec
) -> list[RecordEvent]:
    if verdict.second_opinion:
        return []  # the lot counted once already, as the organisation that inspected it first judged it
    accepted = isinstance(verdict, LotAccepted)
    at, inspection_id = verdict.at, verdict.inspection_id
    record = _started(state, verdict.msme_id, verdict.standard_id, verdict.standard_version, spec)
    before = record.switching
    after = before
    if not before.discontinued:  # a lot judged after discontinuation counts, but switching has stopped
        outcome = verdict_outcome(verdict, InspectionLevel(spec.inspection_level))
        after = switching.after_lot(before, outcome, reduced_allowed=spec.allow_reduced)
    severity = Severity(before.severity).value, Severity(after.severity).value
    events: list[RecordEvent] = _severity_changed(record, after, _SWITCH_REASONS.get(severity, ""), inspection_id, at)
    record = replace(
        record,
        switching=after,
        lots_accepted=record.lots_accepted + accepted,
        lots_rejected=record.lots_rejected + (not accepted),
        classes=record.classes if verdict.resubmitted else _with_samples(record.classes, verdict),
    )
    if after.discontinued and not before.discontinued:
        events.append(
            InspectionDiscontinued(
                msme_id=verdict.msme_id,
                standard_id=verdict.standard_id,
                rejected_on_tightened=after.rejected_on_tightened,
                inspection_id=inspection_id,
                at=at,
            )
        )
        if record.qualified:
            events.append(
                MsmeDisqualified(
                    msme_id=verdict.msme_id,
                    standard_id=verdict.standard_id,
                    reason="inspection was discontinued: 5 lots not accepted on tightened inspection",
                    inspection_id=inspection_id,
                    at=at,
                )
            )
        record = replace(record, qualified=False, qualified_by=None, accepted_toward_qualification=0)
    elif accepted and not record.qualified and not after.discontinued:
        toward = record.accepted_toward_qualification + 1
        record = replace(record, accepted_toward_qualification=toward)
        if toward >= record.qualification_lots:
            record = replace(record, qualified=True, qualified_by="accepted_lots")
            events.append(_qualified(verdict, "accepted_lots"))
    cause = "lot_accepted" if accepted else "lot_rejected"
    return [*events, assessment(record, cause, inspection_id, at)]


def _record_first_article(
    state: QualityRecord, verdict: FirstArticleApproved | FirstArticleRejected, spec: StandardVersionSpec
) -> list[RecordEvent]:
    approved = isinstance(verdict, FirstArticleApproved)
    record = _started(state, verdict.msme_id, verdict.standard_id, verdict.standard_version, spec)
    record = replace(
        record,
        first_articles_approved=record.first_articles_approved + approved,
        first_articles_rejected=record.first_articles_rejected + (not approved),
    )
    events: list[RecordEvent] = []
    if approved and not record.qualified and not record.discontinued:
        record = replace(record, qualified=True, qualified_by="first_article")
        events.append(_qualified(verdict, "first_article"))
    cause = "first_article_approved" if approved else "first_article_rejected"
    return [*events, assessment(record, cause, verdict.inspection_id, verdict.at)]


def _started(
    state: QualityRecord, msme_id: UUID, standard_id: UUID, version: int, spec: StandardVersionSpec
) -> QualityRecord:
    """The record with the identity and the rules of the latest standard version it is judged under."""
    return replace(
        state,
        msme_id=msme_id,
        standard_id=standard_id,
        standard_version=max(version, state.standard_version),
        qualification_lots=spec.qualification_lots,
        probation_allowed=spec.probation_allowed,
    )


def _with_samples(classes: tuple[ClassRecord, ...], verdict: LotAccepted | LotRejected) -> tuple[ClassRecord, ...]:
    """Add an original lot's sampled units and defects to each class, keeping each class's latest AQL."""
    by_class = {record.defect_class: record for record in classes}
    for plan, judged in zip(verdict.plans, verdict.verdicts, strict=True):
        previous = by_class.get(plan.defect_class)
        by_class[plan.defect_class] = ClassRecord(
            defect_class=plan.defect_class,
            aql=plan.aql,
            sampled_units=(previous.sampled_units if previous else 0) + judged.sample_size,
            defects=(previous.defects if previous else 0) + judged.defects,
        )
    order = {"critical": 0, "major": 1, "minor": 2}
    return tuple(sorted(by_class.values(), key=lambda record: order[record.defect_class]))


def _severity_changed(
    state: QualityRecord, after: switching.SwitchingState, reason: str, inspection_id: UUID | None, at: datetime
) -> list[RecordEvent]:
    if after.severity == state.switching.severity:
        return []
    assert state.msme_id is not None and state.standard_id is not None
    return [
        SeverityChanged(
            msme_id=state.msme_id,
            standard_id=state.standard_id,
            previous=Severity(state.switching.severity).value,
            severity=Severity(after.severity).value,
            reason=reason,
            inspection_id=inspection_id,
            at=at,
        )
    ]


def _qualified(
    verdict: LotAccepted | LotRejected | FirstArticleApproved | FirstArticleRejected, basis: QualificationBasis
) -> MsmeQualified:
    return MsmeQualified(
        msme_id=verdict.msme_id,
        standard_id=verdict.standard_id,
        standard_version=verdict.standard_version,
        basis=basis,
        inspection_id=verdict.inspection_id,
        at=verdict.at,
    )


def evolve(state: QualityRecord, event: RecordEvent) -> QualityRecord:
    """Only the assessment changes the record: it carries all of it."""
    return from_assessment(event) if isinstance(event, MsmeQualityAssessed) else state


QUALITY_RECORD = Decider[RecordCommand, QualityRecord, RecordEvent]("msme-standard", QualityRecord(), decide, evolve)
