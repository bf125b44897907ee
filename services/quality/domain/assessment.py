"""An MSME's quality record under one standard, and the assessment event that carries all of it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final
from uuid import UUID

from events.quality import ClassRecord, MsmeQualityAssessed, QualificationBasis
from services.quality.domain import scoring, switching
from services.quality.domain.sampling import Severity

DEFAULT_QUALIFICATION_LOTS: Final = 3


@dataclass(frozen=True)
class QualityRecord:
    msme_id: UUID | None = None
    standard_id: UUID | None = None
    standard_version: int = 0
    switching: switching.SwitchingState = switching.INITIAL
    qualified: bool = False
    qualified_by: QualificationBasis | None = None
    accepted_toward_qualification: int = 0
    qualification_lots: int = DEFAULT_QUALIFICATION_LOTS
    probation_allowed: bool = True
    lots_accepted: int = 0
    lots_rejected: int = 0
    first_articles_approved: int = 0
    first_articles_rejected: int = 0
    classes: tuple[ClassRecord, ...] = ()

    @property
    def discontinued(self) -> bool:
        return self.switching.discontinued


def assessment(record: QualityRecord, cause: str, inspection_id: UUID | None, at: datetime) -> MsmeQualityAssessed:
    """The whole record as the event every decision ends with."""
    assert record.msme_id is not None and record.standard_id is not None
    state = record.switching
    return MsmeQualityAssessed(
        msme_id=record.msme_id,
        standard_id=record.standard_id,
        standard_version=record.standard_version,
        qualified=record.qualified,
        qualified_by=record.qualified_by,
        probation_allowed=record.probation_allowed,
        severity=Severity(state.severity).value,
        discontinued=state.discontinued,
        score=scoring.quality_score(record.lots_accepted, record.lots_rejected, record.classes),
        score_method=scoring.SCORE_METHOD,
        process_average=scoring.process_average(record.classes),
        lots_accepted=record.lots_accepted,
        lots_rejected=record.lots_rejected,
        first_articles_approved=record.first_articles_approved,
        first_articles_rejected=record.first_articles_rejected,
        accepted_toward_qualification=record.accepted_toward_qualification,
        qualification_lots=record.qualification_lots,
        classes=list(record.classes),
        switching_score=state.switching_score,
        recent_lots=list(state.recent),
        consecutive_accepted=state.consecutive_accepted,
        rejected_on_tightened=state.rejected_on_tightened,
        cause=cause,
        inspection_id=inspection_id,
        at=at,
    )


def from_assessment(event: MsmeQualityAssessed) -> QualityRecord:
    """The record an assessment describes."""
    return QualityRecord(
        msme_id=event.msme_id,
        standard_id=event.standard_id,
        standard_version=event.standard_version,
        switching=switching.SwitchingState(
            severity=Severity(event.severity),
            recent=tuple(event.recent_lots),
            switching_score=event.switching_score,
            consecutive_accepted=event.consecutive_accepted,
            rejected_on_tightened=event.rejected_on_tightened,
            discontinued=event.discontinued,
        ),
        qualified=event.qualified,
        qualified_by=event.qualified_by,
        accepted_toward_qualification=event.accepted_toward_qualification,
        qualification_lots=event.qualification_lots,
        probation_allowed=event.probation_allowed,
        lots_accepted=event.lots_accepted,
        lots_rejected=event.lots_rejected,
        first_articles_approved=event.first_articles_approved,
        first_articles_rejected=event.first_articles_rejected,
        classes=tuple(event.classes),
    )
