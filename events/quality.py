"""Quality's events: standards and their versions, inspections with their verdicts, and each MSME's record.

Streams: ``standard-<standard_id>``, ``inspection-<inspection_id>`` and, for the switching state and
qualification of one MSME under one standard (across the standard's versions),
``msme-standard:<msme_id>:<standard_id>``. ``MsmeQualityAssessed`` follows every verdict or change of state
and carries the full record, so pooling needs no history to decide whom to allocate to.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

import msgspec

from events.base import Event, EventCodec

DefectClass = Literal["critical", "major", "minor"]
InspectionLevel = Literal["I", "II", "III", "S-1", "S-2", "S-3", "S-4"]
Severity = Literal["normal", "tightened", "reduced"]
InspectionKind = Literal["lot", "first_article"]
QualificationBasis = Literal["first_article", "accepted_lots"]


class MeasuredAttribute(msgspec.Struct, frozen=True, kw_only=True):
    """A dimension measured on sampled units; a value outside nominal − lower … nominal + upper is a defect."""

    name: str
    unit: str
    nominal: Decimal
    lower_tolerance: Decimal
    upper_tolerance: Decimal
    defect_class: DefectClass = "major"


class Check(msgspec.Struct, frozen=True, kw_only=True):
    """A visual or functional check; a unit failing it counts as a defect of ``defect_class``."""

    name: str
    kind: Literal["visual", "functional"] = "visual"
    description: str = ""
    defect_class: DefectClass = "major"


class DefectClassAql(msgspec.Struct, frozen=True, kw_only=True):
    """A defect class with its acceptance quality limit from the ISO 2859-1 preferred series."""

    defect_class: DefectClass
    aql: Decimal
    description: str = ""


class Reference(msgspec.Struct, frozen=True, kw_only=True):
    """A photo or document that shows what the standard means."""

    title: str
    url: str
    kind: Literal["photo", "document", "link"] = "photo"


class StandardVersionSpec(msgspec.Struct, frozen=True, kw_only=True):
    """Everything one version of a standard says."""

    attributes: list[MeasuredAttribute]
    checks: list[Check]
    defect_classes: list[DefectClassAql]
    inspection_level: InspectionLevel
    allow_reduced: bool = False
    qualification_lots: int = 3
    probation_allowed: bool = True
    notes: str = ""
    references: list[Reference] = msgspec.field(default_factory=list)


class ClassPlan(msgspec.Struct, frozen=True, kw_only=True):
    """The single sampling plan for one defect class of one lot."""

    defect_class: DefectClass
    aql: Decimal
    code_letter: str
    sample_size: int
    accept: int
    reject: int
    inspect_whole_lot: bool
    plan_letter: str = ""
    """The master table row the plan came from, after following arrows (empty for a first article)."""


class AttributeResult(msgspec.Struct, frozen=True, kw_only=True):
    """The measurements of one attribute and how many fell outside its tolerance."""

    attribute: str
    defect_class: DefectClass
    values: list[Decimal]
    out_of_tolerance: int


class ClassVerdict(msgspec.Struct, frozen=True, kw_only=True):
    """A defect class's verdict: defects found (reported plus out-of-tolerance measurements) against Ac/Re."""

    defect_class: DefectClass
    sample_size: int
    accept: int
    reject: int
    reported_defects: int
    measurement_defects: int
    defects: int
    accepted: bool
    reason: str


class ClassRecord(msgspec.Struct, frozen=True, kw_only=True):
    """An MSME's sampled units and defects of one class, over its original lots under a standard."""

    defect_class: DefectClass
    aql: Decimal
    sampled_units: int
    defects: int


class StandardCreated(Event, frozen=True, kw_only=True, tag="quality.StandardCreated.v1"):
    standard_id: UUID
    name: str
    description: str = ""
    owner_org: str
    created_by: str
    at: datetime


class StandardVersionDrafted(Event, frozen=True, kw_only=True, tag="quality.StandardVersionDrafted.v1"):
    """A new version, editable until published."""

    standard_id: UUID
    version: int
    spec: StandardVersionSpec
    drafted_by: str
    at: datetime


class StandardVersionRevised(Event, frozen=True, kw_only=True, tag="quality.StandardVersionRevised.v1"):
    """A draft version replaced as a whole."""

    standard_id: UUID
    version: int
    spec: StandardVersionSpec
    revised_by: str
    at: datetime


class StandardVersionPublished(Event, frozen=True, kw_only=True, tag="quality.StandardVersionPublished.v1"):
    """A version became immutable and usable by orders and inspections; carries the whole version."""

    standard_id: UUID
    name: str
    owner_org: str
    version: int
    spec: StandardVersionSpec
    published_by: str
    at: datetime


class InspectionOpened(Event, frozen=True, kw_only=True, tag="quality.InspectionOpened.v1"):
    """An inspector took on a lot (or a first article) and the plan per defect class was fixed."""

    inspection_id: UUID
    kind: InspectionKind
    msme_id: UUID
    standard_id: UUID
    standard_version: int
    lot_id: UUID | None = None
    pool_id: UUID | None = None
    lot_size: int | None = None
    product_id: UUID | None = None
    resubmitted: bool = False
    severity: Severity
    inspection_level: InspectionLevel
    plans: list[ClassPlan]
    inspector_org: str
    opened_by: str
    at: datetime
    second_opinion: bool = False
    """Another organisation inspected the lot first: its verdict is kept, but the MSME's record counts the
    lot once, as the first organisation judged it."""


class LotAccepted(Event, frozen=True, kw_only=True, tag="quality.LotAccepted.v1"):
    """Every defect class of the lot's sample was within its acceptance number."""

    inspection_id: UUID
    lot_id: UUID
    pool_id: UUID
    msme_id: UUID
    standard_id: UUID
    standard_version: int
    lot_size: int
    resubmitted: bool
    severity: Severity
    plans: list[ClassPlan]
    verdicts: list[ClassVerdict]
    measurements: list[AttributeResult]
    reasons: list[str]
    inspector_org: str
    recorded_by: str
    at: datetime
    second_opinion: bool = False


class LotRejected(Event, frozen=True, kw_only=True, tag="quality.LotRejected.v1"):
    """At least one defect class reached its rejection number; ``reasons`` says which."""

    inspection_id: UUID
    lot_id: UUID
    pool_id: UUID
    msme_id: UUID
    standard_id: UUID
    standard_version: int
    lot_size: int
    resubmitted: bool
    severity: Severity
    plans: list[ClassPlan]
    verdicts: list[ClassVerdict]
    measurements: list[AttributeResult]
    reasons: list[str]
    inspector_org: str
    recorded_by: str
    at: datetime
    second_opinion: bool = False


class FirstArticleApproved(Event, frozen=True, kw_only=True, tag="quality.FirstArticleApproved.v1"):
    """An MSME's first article met the standard version in every class; the MSME qualifies."""

    inspection_id: UUID
    msme_id: UUID
    product_id: UUID
    standard_id: UUID
    standard_version: int
    plans: list[ClassPlan]
    verdicts: list[ClassVerdict]
    measurements: list[AttributeResult]
    reasons: list[str]
    inspector_org: str
    recorded_by: str
    at: datetime


class FirstArticleRejected(Event, frozen=True, kw_only=True, tag="quality.FirstArticleRejected.v1"):
    inspection_id: UUID
    msme_id: UUID
    product_id: UUID
    standard_id: UUID
    standard_version: int
    plans: list[ClassPlan]
    verdicts: list[ClassVerdict]
    measurements: list[AttributeResult]
    reasons: list[str]
    inspector_org: str
    recorded_by: str
    at: datetime


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


QualityEvent = (
    StandardCreated
    | StandardVersionDrafted
    | StandardVersionRevised
    | StandardVersionPublished
    | InspectionOpened
    | LotAccepted
    | LotRejected
    | FirstArticleApproved
    | FirstArticleRejected
    | SeverityChanged
    | InspectionDiscontinued
    | InspectionResumed
    | MsmeQualified
    | MsmeDisqualified
    | MsmeQualityAssessed
)
CODEC = EventCodec("quality", QualityEvent)
