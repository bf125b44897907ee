"""An MSME's quality score and process average under one standard, from counts alone."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from events.quality import ClassRecord

PRIOR_UNITS: Final = 100
"""Pseudo-units of prior evidence that the process runs exactly at each class's AQL."""

SCORE_METHOD: Final = (
    "score = 0.5 × acceptance + 0.5 × conformance. "
    "acceptance = (lots accepted + 1) / (lots accepted + lots rejected + 2), the mean of a Beta(1, 1) prior "
    "updated with the lots. conformance = 1 / (1 + r), where r is the largest, over defect classes, of "
    "p / AQL with p = 100 × (defects + AQL) / (sampled units + 100): the defects per hundred units of the class "
    "over original lots, smoothed by a prior of 100 units at the AQL. With no history both parts are 0.5, so "
    "the score starts at the explicit prior 0.5; a process at its AQLs with as many lots accepted as rejected "
    "stays at 0.5, one with no defects and only accepted lots approaches 1."
)


def acceptance(lots_accepted: int, lots_rejected: int) -> float:
    """The posterior mean acceptance rate under a uniform Beta(1, 1) prior."""
    return (lots_accepted + 1) / (lots_accepted + lots_rejected + 2)


def conformance(classes: Sequence[ClassRecord]) -> float:
    """1 / (1 + worst smoothed defect rate relative to its AQL); 0.5 without any sampled units."""
    ratios = [_smoothed_rate(c) / float(c.aql) for c in classes if c.aql > 0]
    return 1 / (1 + max(ratios)) if ratios else 0.5


def quality_score(lots_accepted: int, lots_rejected: int, classes: Sequence[ClassRecord]) -> float:
    return round(0.5 * acceptance(lots_accepted, lots_rejected) + 0.5 * conformance(classes), 6)


def process_average(classes: Sequence[ClassRecord]) -> float | None:
    """Estimated defects per hundred units: each class's rate from its own samples, summed over classes.

    Classes are sampled in different numbers, so their rates are estimated separately; a unit's defects are
    the sum of its defects in every class. None before any unit was sampled.
    """
    sampled = [c for c in classes if c.sampled_units > 0]
    if not sampled:
        return None
    return round(sum(class_average(c) for c in sampled), 6)


def class_average(record: ClassRecord) -> float:
    """Defects per hundred units of one class (unsmoothed); 0 before any unit was sampled."""
    return 100 * record.defects / record.sampled_units if record.sampled_units else 0.0


def _smoothed_rate(record: ClassRecord) -> float:
    aql = float(record.aql)
    return 100 * (record.defects + aql) / (record.sampled_units + PRIOR_UNITS)
