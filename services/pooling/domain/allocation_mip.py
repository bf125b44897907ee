"""The allocation program solved lexicographically with HiGHS: most quantity first, then least cost.

Phase 1 maximises Σx ≤ demand; phase 2 fixes Σx to that maximum and minimises the weighted cost (the model
is described in ``allocation_program``). Both run on one thread with a fixed seed, so equal inputs give
equal answers (unless a time limit cuts a run short). From ``decompose_from`` offers on, the engine first
tries a restricted model proven against a Lagrangian bound (``allocation_restricted``), and solves the
full model only if that cannot settle the answer in time.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from uuid import UUID

from services.pooling.domain.allocation_offers import Offer
from services.pooling.domain.allocation_program import (
    MipOutcome,
    Selection,
    Stopwatch,
    TierTable,
    build,
    least_cost,
    most_quantity,
    outcome,
    quantities,
)
from services.pooling.domain.allocation_restricted import solve as solve_restricted

__all__ = ["MipOutcome", "solve"]


def solve(
    offers: Sequence[Offer],
    demand: int,
    caps: dict[UUID, int],
    *,
    min_msmes: int | None,
    start: dict[int, int],
    time_limit_s: float,
    mip_gap: float,
    decompose_from: int,
) -> MipOutcome:
    """Most quantity first, then least weighted cost at that quantity. `start` is any feasible filling.

    The start is not handed to HiGHS as a MIP start: HiGHS 1.16 was seen returning such a start unchanged
    while reporting the better objective it had found in its presolved space (with equal-cost tiers). It
    serves to skip phase 1 when it already reaches the demand, and as the answer if phase 2 runs out of
    time before finding any solution.
    """
    clock = Stopwatch(deadline=time.perf_counter() + time_limit_s)
    table = TierTable.of(offers, caps)
    clock.lap("model")
    if table.offers >= decompose_from:
        restricted = solve_restricted(table, demand, min_msmes, start, clock, mip_gap)
        if restricted is not None and (restricted.status == "optimal" or clock.left() <= 0):
            return restricted
        start = start if restricted is None else restricted.quantities
    return _full(table, demand, min_msmes, start, clock, mip_gap)


def _full(
    table: TierTable, demand: int, min_msmes: int | None, start: dict[int, int], clock: Stopwatch, mip_gap: float
) -> MipOutcome:
    model = build(table, Selection.everything(table), demand, min_msmes)
    clock.lap("model")
    start_is_valid = len({int(table.msme[i]) for i in start}) >= (min_msmes or 0)
    phase_one = "optimal"
    best = start
    if not (start_is_valid and sum(start.values()) == demand):  # a full valid start needs no phase 1
        highs = most_quantity(model, clock.left())
        clock.lap("phase 1")
        phase_one, found = outcome(highs)
        if phase_one == "infeasible":
            return MipOutcome({}, phase_one, 0.0, clock.laps)
        if found:
            best = quantities(highs, model)
        elif not start_is_valid:  # out of time with nothing to show
            return MipOutcome({}, phase_one, 1.0, clock.laps)
    target = sum(best.values())
    if target == 0:
        return MipOutcome({}, phase_one, 0.0, clock.laps)
    highs = least_cost(model, target, clock.left(), mip_gap)
    clock.lap("phase 2")
    phase_two, found = outcome(highs)
    if not found:  # out of time before any solution: keep the phase 1 answer, gap unknown
        return MipOutcome(best, "time_limit", 1.0, clock.laps)
    status = phase_two if phase_one == "optimal" else phase_one
    return MipOutcome(quantities(highs, model), status, float(highs.getInfo().mip_gap), clock.laps)
