"""Judging a sample: defects reported per class plus out-of-tolerance measurements, against each class's Ac/Re."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from events.quality import AttributeResult, ClassPlan, ClassVerdict, DefectClass, MeasuredAttribute
from shared.kernel.errors import FieldError, InvalidInput


@dataclass(frozen=True)
class MeasuredValues:
    """The values an inspector measured of one attribute on the sampled units."""

    attribute: str
    values: tuple[Decimal, ...]


def reported_defects(
    defects: Mapping[DefectClass, int], plans: Mapping[DefectClass, ClassPlan]
) -> dict[DefectClass, int]:
    errors = [
        FieldError(f"defects.{name}", "is not a defect class of this inspection")
        for name in defects
        if name not in plans
    ]
    errors += [
        FieldError(f"defects.{name}", "is required: give the defects found in this class, 0 if none")
        for name in plans
        if name not in defects
    ]
    if errors:
        raise InvalidInput(errors)
    return dict(defects)


def measured(
    measurements: Sequence[MeasuredValues],
    attributes: Sequence[MeasuredAttribute],
    plans: Mapping[DefectClass, ClassPlan],
) -> list[AttributeResult]:
    """Each measured attribute with how many of its values fall outside nominal − lower … nominal + upper."""
    by_name = {attribute.name.casefold(): attribute for attribute in attributes}
    errors: list[FieldError] = []
    results: list[AttributeResult] = []
    seen: set[str] = set()
    for index, measurement in enumerate(measurements):
        attribute = by_name.get(measurement.attribute.casefold())
        if attribute is None:
            errors.append(FieldError(f"measurements[{index}].attribute", "is not an attribute of this standard"))
            continue
        if attribute.name in seen:
            errors.append(FieldError(f"measurements[{index}].attribute", "is measured more than once"))
            continue
        seen.add(attribute.name)
        sample_size = plans[attribute.defect_class].sample_size
        if len(measurement.values) > sample_size:
            message = f"has {len(measurement.values)} values but the {attribute.defect_class} sample is {sample_size}"
            errors.append(FieldError(f"measurements[{index}].values", message))
            continue
        low = attribute.nominal - attribute.lower_tolerance
        high = attribute.nominal + attribute.upper_tolerance
        outside = sum(1 for value in measurement.values if not low <= value <= high)
        results.append(
            AttributeResult(
                attribute=attribute.name,
                defect_class=attribute.defect_class,
                values=list(measurement.values),
                out_of_tolerance=outside,
            )
        )
    if errors:
        raise InvalidInput(errors)
    return results


def judge(plan: ClassPlan, reported: int, measurements: Sequence[AttributeResult]) -> ClassVerdict:
    """One class's verdict: accepted when its defects do not exceed Ac (they reach Re otherwise)."""
    from_measurements = sum(m.out_of_tolerance for m in measurements if m.defect_class == plan.defect_class)
    defects = reported + from_measurements
    accepted = defects <= plan.accept
    found = f"{defects} defect{'s' if defects != 1 else ''}"
    if from_measurements:
        found += (
            f" ({reported} reported, {from_measurements} out-of-tolerance measurement{'s' * (from_measurements > 1)})"
        )
    sample = f"in a sample of {plan.sample_size}"
    if accepted:
        reason = f"{plan.defect_class}: {found} {sample} is within Ac {plan.accept} (AQL {plan.aql}): accepted"
    else:
        reason = f"{plan.defect_class}: {found} {sample} reaches Re {plan.reject} (AQL {plan.aql}): rejected"
    return ClassVerdict(
        defect_class=plan.defect_class,
        sample_size=plan.sample_size,
        accept=plan.accept,
        reject=plan.reject,
        reported_defects=reported,
        measurement_defects=from_measurements,
        defects=defects,
        accepted=accepted,
        reason=reason,
    )
