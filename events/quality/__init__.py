"""Quality's events: standards and their versions, inspections with their verdicts, and each MSME's record.

Streams: ``standard-<standard_id>``, ``inspection-<inspection_id>`` and, for the switching state and
qualification of one MSME under one standard (across the standard's versions),
``msme-standard:<msme_id>:<standard_id>``. ``MsmeQualityAssessed`` follows every verdict or change of state
and carries the full record, so pooling needs no history to decide whom to allocate to.

One module per aggregate (``standards``, ``inspections``, ``assessments``); every name is re-exported here,
with the one codec of the service.
"""

from __future__ import annotations

from events.base import EventCodec
from events.quality.assessments import (
    ClassRecord,
    InspectionDiscontinued,
    InspectionResumed,
    MsmeDisqualified,
    MsmeQualified,
    MsmeQualityAssessed,
    QualificationBasis,
    SeverityChanged,
)
from events.quality.inspections import (
    AttributeResult,
    ClassPlan,
    ClassVerdict,
    FirstArticleApproved,
    FirstArticleRejected,
    InspectionKind,
    InspectionOpened,
    LotAccepted,
    LotRejected,
    Severity,
)
from events.quality.standards import (
    Check,
    DefectClass,
    DefectClassAql,
    InspectionLevel,
    MeasuredAttribute,
    Reference,
    StandardCreated,
    StandardVersionDrafted,
    StandardVersionPublished,
    StandardVersionRevised,
    StandardVersionSpec,
)

__all__ = [
    "CODEC",
    "AttributeResult",
    "Check",
    "ClassPlan",
    "ClassRecord",
    "ClassVerdict",
    "DefectClass",
    "DefectClassAql",
    "FirstArticleApproved",
    "FirstArticleRejected",
    "InspectionDiscontinued",
    "InspectionKind",
    "InspectionLevel",
    "InspectionOpened",
    "InspectionResumed",
    "LotAccepted",
    "LotRejected",
    "MeasuredAttribute",
    "MsmeDisqualified",
    "MsmeQualified",
    "MsmeQualityAssessed",
    "QualificationBasis",
    "QualityEvent",
    "Reference",
    "Severity",
    "SeverityChanged",
    "StandardCreated",
    "StandardVersionDrafted",
    "StandardVersionPublished",
    "StandardVersionRevised",
    "StandardVersionSpec",
]

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
