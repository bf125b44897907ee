"""What quality's routes answer: standards, inspections and an MSME's quality, as JSON structs."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

import msgspec

from events.quality import (
    AttributeResult,
    Check,
    ClassPlan,
    ClassVerdict,
    DefectClassAql,
    InspectionOpened,
    MeasuredAttribute,
    MsmeQualityAssessed,
    Reference,
    StandardVersionSpec,
)
from services.quality.domain.inspection import Verdict
from services.quality.domain.sampling import SamplingPlan
from services.quality.domain.scoring import class_average
from services.quality.domain.standard import Standard, StandardVersion


class VersionView(msgspec.Struct, frozen=True, kw_only=True):
    version: int
    status: str
    drafted_at: datetime
    published_at: datetime | None
    attributes: list[MeasuredAttribute]
    checks: list[Check]
    defect_classes: list[DefectClassAql]
    inspection_level: str
    allow_reduced: bool
    qualification_lots: int
    probation_allowed: bool
    notes: str
    references: list[Reference]


class StandardView(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    name: str
    description: str
    owner_org: str
    created_at: datetime
    latest_version: int
    latest_published: int | None
    versions: list[VersionView]
    version: int
    position: int = 0


class StandardSummary(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    name: str
    description: str
    owner_org: str
    created_at: datetime
    latest_version: int
    latest_published: int | None
    version: int


def version_view(
    number: int, spec: StandardVersionSpec, drafted_at: datetime, published_at: datetime | None
) -> VersionView:
    return VersionView(
        version=number,
        status="published" if published_at else "draft",
        drafted_at=drafted_at,
        published_at=published_at,
        attributes=spec.attributes,
        checks=spec.checks,
        defect_classes=spec.defect_classes,
        inspection_level=spec.inspection_level,
        allow_reduced=spec.allow_reduced,
        qualification_lots=spec.qualification_lots,
        probation_allowed=spec.probation_allowed,
        notes=spec.notes,
        references=spec.references,
    )


def standard_view(standard: Standard, version: int, position: int) -> StandardView:
    """A standard as its decider knows it right after a command."""
    assert standard.standard_id is not None and standard.created_at is not None
    published = [v.number for v in standard.versions if v.published]
    return StandardView(
        id=standard.standard_id,
        name=standard.name,
        description=standard.description,
        owner_org=standard.owner_org,
        created_at=standard.created_at,
        latest_version=len(standard.versions),
        latest_published=max(published, default=None),
        versions=[_of(v) for v in standard.versions],
        version=version,
        position=position,
    )


def _of(version: StandardVersion) -> VersionView:
    return version_view(version.number, version.spec, version.drafted_at, version.published_at)


class VerdictView(msgspec.Struct, frozen=True, kw_only=True):
    accepted: bool
    verdicts: list[ClassVerdict]
    measurements: list[AttributeResult]
    reasons: list[str]
    recorded_by: str
    recorded_at: datetime


class InspectionView(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    kind: str
    status: str
    inspector_org: str
    msme_id: UUID
    standard_id: UUID
    standard_version: int
    lot_id: UUID | None
    pool_id: UUID | None
    lot_size: int | None
    product_id: UUID | None
    resubmitted: bool
    second_opinion: bool
    """Another organisation inspected the lot first; the MSME's record counts the lot as that one judged it."""
    severity: str
    inspection_level: str
    plans: list[ClassPlan]
    opened_by: str
    opened_at: datetime
    verdict: VerdictView | None
    version: int
    position: int = 0


def inspection_view(
    opened: InspectionOpened, verdict: Verdict | None, version: int, position: int = 0
) -> InspectionView:
    decided = None
    status = "open"
    if verdict is not None:
        accepted = all(v.accepted for v in verdict.verdicts)
        status = "accepted" if accepted else "rejected"
        decided = VerdictView(
            accepted=accepted,
            verdicts=verdict.verdicts,
            measurements=verdict.measurements,
            reasons=verdict.reasons,
            recorded_by=verdict.recorded_by,
            recorded_at=verdict.at,
        )
    return InspectionView(
        id=opened.inspection_id,
        kind=opened.kind,
        status=status,
        inspector_org=opened.inspector_org,
        msme_id=opened.msme_id,
        standard_id=opened.standard_id,
        standard_version=opened.standard_version,
        lot_id=opened.lot_id,
        pool_id=opened.pool_id,
        lot_size=opened.lot_size,
        product_id=opened.product_id,
        resubmitted=opened.resubmitted,
        second_opinion=opened.second_opinion,
        severity=opened.severity,
        inspection_level=opened.inspection_level,
        plans=opened.plans,
        opened_by=opened.opened_by,
        opened_at=opened.at,
        verdict=decided,
        version=version,
        position=position,
    )


class QualityState(msgspec.Struct, frozen=True, kw_only=True):
    qualified: bool
    qualified_by: str | None
    severity: str
    discontinued: bool


class ClassAverage(msgspec.Struct, frozen=True, kw_only=True):
    defect_class: str
    aql: Decimal
    sampled_units: int
    defects: int
    defects_per_hundred_units: float


class Switching(msgspec.Struct, frozen=True, kw_only=True):
    switching_score: int
    recent_lots: list[bool]
    consecutive_accepted: int
    rejected_on_tightened: int


class StandardQuality(msgspec.Struct, frozen=True, kw_only=True):
    """An MSME's record under one standard."""

    standard_id: UUID
    standard_version: int
    state: QualityState
    probation_allowed: bool
    lots_accepted: int
    lots_rejected: int
    first_articles_approved: int
    first_articles_rejected: int
    accepted_toward_qualification: int
    qualification_lots: int
    process_average: float | None
    process_average_by_class: list[ClassAverage]
    score: float
    score_method: str
    switching: Switching
    assessed_at: datetime
    version: int
    position: int = 0


class MsmeQuality(msgspec.Struct, frozen=True, kw_only=True):
    msme_id: UUID
    standards: list[StandardQuality]
    score_without_history: float
    score_method: str


def standard_quality(assessed: MsmeQualityAssessed, version: int, position: int = 0) -> StandardQuality:
    return StandardQuality(
        standard_id=assessed.standard_id,
        standard_version=assessed.standard_version,
        state=QualityState(
            qualified=assessed.qualified,
            qualified_by=assessed.qualified_by,
            severity=assessed.severity,
            discontinued=assessed.discontinued,
        ),
        probation_allowed=assessed.probation_allowed,
        lots_accepted=assessed.lots_accepted,
        lots_rejected=assessed.lots_rejected,
        first_articles_approved=assessed.first_articles_approved,
        first_articles_rejected=assessed.first_articles_rejected,
        accepted_toward_qualification=assessed.accepted_toward_qualification,
        qualification_lots=assessed.qualification_lots,
        process_average=assessed.process_average,
        process_average_by_class=[
            ClassAverage(
                defect_class=c.defect_class,
                aql=c.aql,
                sampled_units=c.sampled_units,
                defects=c.defects,
                defects_per_hundred_units=round(class_average(c), 6),
            )
            for c in assessed.classes
        ],
        score=assessed.score,
        score_method=assessed.score_method,
        switching=Switching(
            switching_score=assessed.switching_score,
            recent_lots=assessed.recent_lots,
            consecutive_accepted=assessed.consecutive_accepted,
            rejected_on_tightened=assessed.rejected_on_tightened,
        ),
        assessed_at=assessed.at,
        version=version,
        position=position,
    )


class SamplingPlanView(msgspec.Struct, frozen=True, kw_only=True):
    """Inspect ``sample_size`` units; accept the lot with at most ``accept`` defects, reject it at ``reject``."""

    lot_size: int
    aql: Decimal
    level: str
    severity: str
    code_letter: str
    plan_letter: str
    sample_size: int
    accept: int
    reject: int
    inspect_whole_lot: bool


def sampling_plan_view(lot_size: int, plan: SamplingPlan) -> SamplingPlanView:
    return SamplingPlanView(
        lot_size=lot_size,
        aql=plan.aql,
        level=plan.level.value,
        severity=plan.severity.value,
        code_letter=plan.code_letter,
        plan_letter=plan.plan_letter,
        sample_size=plan.sample_size,
        accept=plan.accept,
        reject=plan.reject,
        inspect_whole_lot=plan.inspect_whole_lot,
    )
