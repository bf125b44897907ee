"""Quality's standard events: a named standard with numbered versions, and what a version says."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

import msgspec

from events.base import Event

DefectClass = Literal["critical", "major", "minor"]
InspectionLevel = Literal["I", "II", "III", "S-1", "S-2", "S-3", "S-4"]


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
