"""Quality's use cases, one module per group: each loads what it needs, decides, and appends in one transaction
(the only place that does).

Routes have already let only the roles of their guard through; which objects a caller may touch (its
organisation's standards and inspections) is decided here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from shared.decider import CommandOutcome

T = TypeVar("T")


@dataclass(frozen=True)
class Saved(Generic[T]):
    """What a use case leaves behind: the aggregate as it now stands, its stream's version, the store position."""

    value: T
    version: int
    position: int


def saved(outcome: CommandOutcome[T], stream: str) -> Saved[T]:
    return Saved(outcome.value, outcome.versions[stream], outcome.position)
