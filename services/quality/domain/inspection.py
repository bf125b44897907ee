"""The inspection decider: a lot or first article is opened with a plan per defect class, then judged once.

A lot's plan per class comes from ISO 2859-1 at the MSME's current severity. A first article is judged
like a first article inspection: every unit the inspector samples must conform, so each class has Ac 0, Re 1.
An out-of-tolerance measurement counts as a defect of its attribute's class.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, assert_never
from uuid import UUID

from events.quality import (
    ClassPlan,
    DefectClass,
    FirstArticleApproved,
    FirstArticleRejected,
    InspectionOpened,
    LotAccepted,
    LotRejected,
    StandardVersionSpec,
)
from services.quality.domain.sampling import InspectionLevel, Severity, sampling_plan
from services.quality.domain.switching import InspectionDiscontinued
from services.quality.domain.verdicts import MeasuredValues, judge, measured, reported_defects
from shared.kernel.decider import Decider
from shared.kernel.errors import Conflict, InvalidInput

LotStatus = Literal["open", "accepted", "rejected"]
InspectionEvent = InspectionOpened | LotAccepted | LotRejected | FirstArticleApproved | FirstArticleRejected
Verdict = LotAccepted | LotRejected | FirstArticleApproved | FirstArticleRejected


def inspection_stream(inspection_id: UUID) -> str:
    return f"inspection-{inspection_id}"


@dataclass(frozen=True)
class StandardUsed:
    """The published standard version an inspection is judged against."""

    standard_id: UUID
    version: int
    spec: StandardVersionSpec


@dataclass(frozen=True)
class OpenLotInspection:
    inspection_id: UUID
    lot_id: UUID
    pool_id: UUID
    msme_id: UUID
    lot_size: int
    resubmitted: bool
    standard: StandardUsed
    severity: Severity
    discontinued: bool
    inspector_org: str
    by: str
    at: datetime
    earlier: tuple[LotStatus, ...] = ()
    """How this organisation's earlier inspections of the lot ended (or that one is still open), oldest first."""
    second_opinion: bool = False
    """Another organisation inspected the lot before."""


@dataclass(frozen=True)
class OpenFirstArticle:
    inspection_id: UUID
    msme_id: UUID
    product_id: UUID
    sample_size: int
    standard: StandardUsed
    discontinued: bool
    inspector_org: str
    by: str
    at: datetime


@dataclass(frozen=True)
class RecordResults:
    defects: Mapping[DefectClass, int]
    measurements: Sequence[MeasuredValues]
    spec: StandardVersionSpec
    by: str
    at: datetime


InspectionCommand = OpenLotInspection | OpenFirstArticle | RecordResults


@dataclass(frozen=True)
class Inspection:
    opened: InspectionOpened | None = None
    verdict: Verdict | None = None


def lot_plans(lot_size: int, spec: StandardVersionSpec, severity: Severity) -> list[ClassPlan]:
    """The ISO 2859-1 single sampling plan of each defect class of a lot."""
    plans = []
    for entry in spec.defect_classes:
        plan = sampling_plan(lot_size, entry.aql, InspectionLevel(spec.inspection_level), severity)
        plans.append(
            ClassPlan(
                defect_class=entry.defect_class,
                aql=plan.aql,
                code_letter=plan.code_letter,
                plan_letter=plan.plan_letter,
                sample_size=plan.sample_size,
                accept=plan.accept,
                reject=plan.reject,
                inspect_whole_lot=plan.inspect_whole_lot,
            )
        )
    return plans


def first_article_plans(sample_size: int, spec: StandardVersionSpec) -> list[ClassPlan]:
    """Every sampled unit of a first article must conform: Ac 0, Re 1 in each class; no code letter applies."""
    return [
        ClassPlan(
            defect_class=entry.defect_class,
            aql=entry.aql,
            code_letter="",
            sample_size=sample_size,
            accept=0,
            reject=1,
            inspect_whole_lot=False,
        )
        for entry in spec.defect_classes
    ]


def decide(command: InspectionCommand, state: Inspection) -> Sequence[InspectionEvent]:
    match command:
        case OpenLotInspection():
            _refuse_reopen(state)
            _refuse_reinspection(command)
            if command.discontinued:
                raise InspectionDiscontinued()
            return [
                InspectionOpened(
                    inspection_id=command.inspection_id,
                    kind="lot",
                    msme_id=command.msme_id,
                    standard_id=command.standard.standard_id,
                    standard_version=command.standard.version,
                    lot_id=command.lot_id,
                    pool_id=command.pool_id,
                    lot_size=command.lot_size,
                    resubmitted=command.resubmitted,
                    severity=command.severity.value,
                    inspection_level=command.standard.spec.inspection_level,
                    plans=lot_plans(command.lot_size, command.standard.spec, command.severity),
                    inspector_org=command.inspector_org,
                    opened_by=command.by,
                    at=command.at,
                    second_opinion=command.second_opinion,
                )
            ]
        case OpenFirstArticle():
            _refuse_reopen(state)
            if command.discontinued:
                raise InspectionDiscontinued()
            return [
                InspectionOpened(
                    inspection_id=command.inspection_id,
                    kind="first_article",
                    msme_id=command.msme_id,
                    standard_id=command.standard.standard_id,
                    standard_version=command.standard.version,
                    product_id=command.product_id,
                    severity="normal",
                    inspection_level=command.standard.spec.inspection_level,
                    plans=first_article_plans(command.sample_size, command.standard.spec),
                    inspector_org=command.inspector_org,
                    opened_by=command.by,
                    at=command.at,
                )
            ]
        case RecordResults():
            return [_verdict(command, state)]
        case _:
            assert_never(command)


def _refuse_reinspection(command: OpenLotInspection) -> None:
    """An organisation judges a lot once; after a rejection it comes back only as a resubmitted lot. Another
    organisation (a buyer's appointed lab, say) may judge it too."""
    lot = command.lot_id
    if "open" in command.earlier:
        raise Conflict(f"lot {lot} is already under inspection", problem="lot-under-inspection")
    if "accepted" in command.earlier:
        raise Conflict(f"lot {lot} was already accepted", problem="lot-already-accepted")
    if command.earlier and not command.resubmitted:
        raise InvalidInput.of("resubmitted", f"lot {lot} was rejected before; inspect it again as a resubmitted lot")


def _refuse_reopen(state: Inspection) -> None:
    if state.opened is not None:
        raise Conflict(f"inspection {state.opened.inspection_id} is already open", problem="already-exists")


def _verdict(command: RecordResults, state: Inspection) -> Verdict:
    opened = state.opened
    if opened is None:
        raise Conflict("the inspection was never opened", problem="illegal-transition")
    if state.verdict is not None:
        raise Conflict(
            f"inspection {opened.inspection_id} already has its results", problem="results-recorded", state="decided"
        )
    plans = {plan.defect_class: plan for plan in opened.plans}
    measurements = measured(command.measurements, command.spec.attributes, plans)
    reported = reported_defects(command.defects, plans)
    verdicts = [judge(plan, reported[plan.defect_class], measurements) for plan in opened.plans]
    accepted = all(v.accepted for v in verdicts)
    reasons = [v.reason for v in verdicts if not v.accepted] or [v.reason for v in verdicts]
    if opened.kind == "first_article":
        assert opened.product_id is not None
        first_article = FirstArticleApproved if accepted else FirstArticleRejected
        return first_article(
            inspection_id=opened.inspection_id,
            msme_id=opened.msme_id,
            product_id=opened.product_id,
            standard_id=opened.standard_id,
            standard_version=opened.standard_version,
            plans=opened.plans,
            verdicts=verdicts,
            measurements=measurements,
            reasons=reasons,
            inspector_org=opened.inspector_org,
            recorded_by=command.by,
            at=command.at,
        )
    assert opened.lot_id is not None and opened.pool_id is not None and opened.lot_size is not None
    lot = LotAccepted if accepted else LotRejected
    return lot(
        inspection_id=opened.inspection_id,
        lot_id=opened.lot_id,
        pool_id=opened.pool_id,
        msme_id=opened.msme_id,
        standard_id=opened.standard_id,
        standard_version=opened.standard_version,
        lot_size=opened.lot_size,
        resubmitted=opened.resubmitted,
        severity=opened.severity,
        plans=opened.plans,
        verdicts=verdicts,
        measurements=measurements,
        reasons=reasons,
        inspector_org=opened.inspector_org,
        recorded_by=command.by,
        at=command.at,
        second_opinion=opened.second_opinion,
    )


def evolve(state: Inspection, event: InspectionEvent) -> Inspection:
    match event:
        case InspectionOpened():
            return Inspection(opened=event)
        case LotAccepted() | LotRejected() | FirstArticleApproved() | FirstArticleRejected():
            return Inspection(opened=state.opened, verdict=event)
        case _:
            assert_never(event)


INSPECTION = Decider[InspectionCommand, Inspection, InspectionEvent]("inspection", Inspection(), decide, evolve)
