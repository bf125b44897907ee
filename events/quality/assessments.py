"""Quality's assessment events: an MSME's switching state, qualification and whole record under a standard."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

import msgspec

from events.base import Event
from events.quality.inspections import Severity
from events.quality.standards import DefectClass

QualificationBasis = Literal["first_article", "accepted_lots"]


class ClassRecord(msgspec.Struct, frozen=True, kw_only=True):
    """An MSME's sampled units and defects of one class, over its original lots under a standard."""

    defect_class: DefectClass
    aql: Decimal
    sampled_units: int
    defects: int


class SeverityChanged(Event, frozen=True, kw_only=True, tag="quality.SeverityChanged.v1"):
    """ISO 2859-1 switching moved an MSME's inspection under a standard to another severity."""

    msme_id: UUID
    standard_id: UUID
    previous: Severity
    severity: Severity
    reason: str
    inspection_id: UUID | None = None
    at: datetime


class InspectionDiscontinued(Event, frozen=True, kw_only=True, tag="quality.InspectionDiscontinued.v1"):
    """Too many lots failed on tightened inspection: no lot is inspected until corrective action."""

    msme_id: UUID
    standard_id: UUID
    rejected_on_tightened: int
    inspection_id: UUID | None = None
    at: datetime


class InspectionResumed(Event, frozen=True, kw_only=True, tag="quality.InspectionResumed.v1"):
    """An inspector recorded corrective action; inspection restarts at tightened."""

    msme_id: UUID
    standard_id: UUID
    corrective_action: str
    inspector_org: str
    resumed_by: str
    at: datetime


class MsmeQualified(Event, frozen=True, kw_only=True, tag="quality.MsmeQualified.v1"):
    msme_id: UUID
    standard_id: UUID
    standard_version: int
    basis: QualificationBasis
    inspection_id: UUID
    at: datetime


class MsmeDisqualified(Event, frozen=True, kw_only=True, tag="quality.MsmeDisqualified.v1"):
    msme_id: UUID
    standard_id: UUID
    reason: str
    inspection_id: UUID | None = None
    at: datetime


class MsmeQualityAssessed(Event, frozen=True, kw_only=True, tag="quality.MsmeQualityAssessed.v1"):
    """An MSME's full quality record under a standard, after every verdict or change of state.

    ``score`` is in [0, 1] (0.5 with no history, see ``score_method``); ``process_average`` is defects per
    hundred sampled units over original lots, None before any. The switching fields are ISO 2859-1's
    counters, so the record can be rebuilt from this event alone.
    """

    msme_id: UUID
    standard_id: UUID
    standard_version: int
    qualified: bool
    qualified_by: QualificationBasis | None = None
    probation_allowed: bool = True
    severity: Severity
    discontinued: bool
    score: float
    score_method: str
    process_average: float | None = None
    lots_accepted: int
    lots_rejected: int
    first_articles_approved: int = 0
    first_articles_rejected: int = 0
    accepted_toward_qualification: int = 0
    qualification_lots: int
    classes: list[ClassRecord]
    switching_score: int
    recent_lots: list[bool]
    consecutive_accepted: int
    rejected_on_tightened: int
    cause: str
    inspection_id: UUID | None = None
    at: datetime
