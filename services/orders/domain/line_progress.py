"""How far supply has taken an order line: a pure value the API shows and the milestones read."""

from __future__ import annotations

from typing import Literal, get_args

import msgspec

Measure = Literal["allocated", "accepted", "delivered", "passed", "shipped"]
MEASURES: tuple[Measure, ...] = get_args(Measure)


class LineProgress(msgspec.Struct, frozen=True, kw_only=True):
    """How much of a line is allocated to MSMEs, accepted by them, delivered in lots, passed inspection, shipped."""

    allocated: int = 0
    accepted: int = 0
    delivered: int = 0
    passed: int = 0
    shipped: int = 0


NO_PROGRESS = LineProgress()
