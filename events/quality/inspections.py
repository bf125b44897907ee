"""Quality's inspection events: a lot or first article opened with a plan per defect class, then judged once."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

import msgspec

from events.base import Event
from events.quality.standards import DefectClass, InspectionLevel

Severity = Literal["normal", "tightened", "reduced"]
InspectionKind = Literal["lot", "first_article"]


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
