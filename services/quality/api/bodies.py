"""Request bodies of quality's routes: strict structs, so every bad field is named in one 422."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

import msgspec

from events.quality import (
    Check,
    DefectClass,
    DefectClassAql,
    InspectionLevel,
    MeasuredAttribute,
    Reference,
    StandardVersionSpec,
)
from services.quality.domain.assessment import DEFAULT_QUALIFICATION_LOTS
from shared.bounds import Count, Measurement, Rate, Version
from shared.kernel.errors import FieldError, InvalidInput

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Text = Annotated[str, msgspec.Meta(max_length=10_000)]


class AttributeInput(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A measured attribute: accepted from ``nominal − lower_tolerance`` to ``nominal + upper_tolerance``."""

    name: Name
    unit: Annotated[str, msgspec.Meta(min_length=1, max_length=20)]
    nominal: Measurement
    lower_tolerance: Measurement
    upper_tolerance: Measurement
    defect_class: DefectClass = "major"


class CheckInput(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: Name
    kind: Literal["visual", "functional"] = "visual"
    description: Text = ""
    defect_class: DefectClass = "major"


class DefectClassInput(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A defect class and its AQL, one of the ISO 2859-1 preferred series 0.010 … 1000."""

    defect_class: DefectClass
    aql: Rate
    description: Text = ""


class ReferenceInput(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    title: Name
    url: Annotated[str, msgspec.Meta(pattern=r"^https?://\S+$", max_length=2000)]
    kind: Literal["photo", "document", "link"] = "photo"


class VersionInput(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The content of a standard version."""

    defect_classes: Annotated[list[DefectClassInput], msgspec.Meta(min_length=1, max_length=3)]
    attributes: Annotated[list[AttributeInput], msgspec.Meta(max_length=100)] = []
    checks: Annotated[list[CheckInput], msgspec.Meta(max_length=200)] = []
    inspection_level: InspectionLevel = "II"
    allow_reduced: bool = False
    qualification_lots: Annotated[int, msgspec.Meta(ge=1, le=100)] = DEFAULT_QUALIFICATION_LOTS
    probation_allowed: bool = True
    notes: Text = ""
    references: Annotated[list[ReferenceInput], msgspec.Meta(max_length=50)] = []

    def spec(self) -> StandardVersionSpec:
        return StandardVersionSpec(
            attributes=[
                MeasuredAttribute(
                    name=a.name,
                    unit=a.unit,
                    nominal=a.nominal,
                    lower_tolerance=a.lower_tolerance,
                    upper_tolerance=a.upper_tolerance,
                    defect_class=a.defect_class,
                )
                for a in self.attributes
            ],
            checks=[
                Check(name=c.name, kind=c.kind, description=c.description, defect_class=c.defect_class)
                for c in self.checks
            ],
            defect_classes=[
                DefectClassAql(defect_class=d.defect_class, aql=d.aql, description=d.description)
                for d in self.defect_classes
            ],
            inspection_level=self.inspection_level,
            allow_reduced=self.allow_reduced,
            qualification_lots=self.qualification_lots,
            probation_allowed=self.probation_allowed,
            notes=self.notes,
            references=[Reference(title=r.title, url=r.url, kind=r.kind) for r in self.references],
        )


class NewStandard(VersionInput, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A standard with its first version, a draft unless ``publish`` is true."""

    name: Name
    description: Text = ""
    publish: bool = False


class NewVersion(VersionInput, frozen=True, kw_only=True, forbid_unknown_fields=True):
    publish: bool = False


class OpenInspection(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A lot (``lot_id``, ``pool_id``, ``lot_size``) or a first article (``product_id``, ``sample_size``)."""

    kind: Literal["lot", "first_article"] = "lot"
    msme_id: UUID
    standard_id: UUID
    standard_version: Version
    lot_id: UUID | None = None
    pool_id: UUID | None = None
    lot_size: Annotated[int, msgspec.Meta(ge=2, le=100_000_000)] | None = None
    resubmitted: bool = False
    product_id: UUID | None = None
    sample_size: Annotated[int, msgspec.Meta(ge=1, le=10_000)] | None = None

    def check_kind(self) -> None:
        """A lot needs lot, pool and lot size; a first article needs product and sample size; neither takes the
        other's (a 422 naming every such field)."""
        lot, first_article = ("lot_id", "pool_id", "lot_size"), ("product_id", "sample_size")
        needed, foreign = (lot, first_article) if self.kind == "lot" else (first_article, lot)
        kind = self.kind.replace("_", " ")
        errors = [FieldError(name, f"is required for a {kind}") for name in needed if getattr(self, name) is None]
        errors += [
            FieldError(name, f"does not apply to a {kind}") for name in foreign if getattr(self, name) is not None
        ]
        if self.kind == "first_article" and self.resubmitted:
            errors.append(FieldError("resubmitted", "does not apply to a first article"))
        if errors:
            raise InvalidInput(errors)


class MeasurementInput(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    attribute: Name
    values: Annotated[list[Measurement], msgspec.Meta(min_length=1, max_length=10_000)]


class InspectionResults(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Defects found per class in the sample (0 if none) and the measurements of attributes."""

    defects: dict[DefectClass, Count]
    measurements: Annotated[list[MeasurementInput], msgspec.Meta(max_length=100)] = []


class Resume(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    corrective_action: Annotated[str, msgspec.Meta(min_length=1, max_length=10_000)]
