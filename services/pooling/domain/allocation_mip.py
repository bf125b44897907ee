"""The allocation mixed-integer program, solved lexicographically with HiGHS.

Per offer i and price tier j there is an integer quantity x[i,j] and a binary y[i,j] ("supplies at this
tier"), with low[i,j]·y ≤ x ≤ high[i,j]·y and Σ_j y[i,j] ≤ 1, so an MSME supplies nothing or at least its
MOQ, at exactly one tier, within capacity and share cap. A handling cost is paid on each y. Phase 1
maximises Σx ≤ demand; phase 2 fixes Σx to that maximum and minimises the weighted cost. Both run on one
thread with a fixed seed, so equal inputs give equal answers (unless a time limit cuts a run short).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

import highspy
import numpy as np
import numpy.typing as npt
from highspy._core import _Highs

from services.pooling.domain.allocation_offers import Offer

RANDOM_SEED = 20_240_917
_FEASIBLE = 2  # HiGHS solution status: a feasible point is available


@dataclass(frozen=True, slots=True)
class MipOutcome:
    quantities: dict[int, int]  # offer index → quantity (only offers that supply)
    status: str  # "optimal", "time_limit" or "infeasible"
    mip_gap: float


@dataclass(frozen=True)
class _Model:
    """Column-wise arrays of the program, shared by both phases."""

    offer_of_pair: npt.NDArray[np.int64]
    pair_cost: npt.NDArray[np.float64]  # per unit
    fixed_cost: npt.NDArray[np.float64]  # per pair, paid when its y is 1
    lp: highspy.HighsLp
    total_row: int


def _build(offers: Sequence[Offer], demand: int, caps: dict[UUID, int], min_msmes: int | None) -> _Model:
    pairs = [(i, tier) for i, offer in enumerate(offers) for tier in offer.tiers]
    n = len(pairs)
    offer_of_pair = np.array([i for i, _ in pairs], dtype=np.int64)
    low = np.array([tier.low for _, tier in pairs], dtype=np.float64)
    high = np.array([tier.high for _, tier in pairs], dtype=np.float64)
    pair_cost = np.array([float(tier.unit_cost) for _, tier in pairs], dtype=np.float64)
    fixed_cost = np.array([float(offers[i].fixed_cost) for i, _ in pairs], dtype=np.float64)
    x_col = 2 * np.arange(n, dtype=np.int64)
    y_col = x_col + 1
    pair_ids = np.arange(n, dtype=np.int64)
    rows: list[npt.NDArray[np.int64]] = []
    cols: list[npt.NDArray[np.int64]] = []
    values: list[npt.NDArray[np.float64]] = []
    lower: list[npt.NDArray[np.float64]] = []
    upper: list[npt.NDArray[np.float64]] = []

    def add(row: npt.NDArray[np.int64], col: npt.NDArray[np.int64], value: npt.NDArray[np.float64]) -> None:
        rows.append(row)
        cols.append(col)
        values.append(value)

    def bounds(count: int, lo: float, up: float) -> None:
        lower.append(np.full(count, lo))
        upper.append(np.full(count, up))

    inf = highspy.kHighsInf
    # rows [0, n): x − high·y ≤ 0; rows [n, 2n): x − low·y ≥ 0
    add(pair_ids, x_col, np.ones(n))
    add(pair_ids, y_col, -high)
    bounds(n, -inf, 0.0)
    add(n + pair_ids, x_col, np.ones(n))
    add(n + pair_ids, y_col, -low)
    bounds(n, 0.0, inf)
    next_row = 2 * n
    # one tier per offer: Σ_j y ≤ 1
    add(next_row + offer_of_pair, y_col, np.ones(n))
    bounds(len(offers), 0.0, 1.0)
    next_row += len(offers)
    # share cap per MSME, where an MSME offers several products (single offers are capped by their bounds)
    msmes = sorted({offer.msme_id for offer in offers})
    index_of = {msme: k for k, msme in enumerate(msmes)}
    msme_of_pair = np.array([index_of[offers[i].msme_id] for i, _ in pairs], dtype=np.int64)
    offers_per_msme = Counter(offer.msme_id for offer in offers)
    for msme in (m for m in msmes if offers_per_msme[m] > 1):
        members = np.flatnonzero(msme_of_pair == index_of[msme])
        add(np.full(len(members), next_row, dtype=np.int64), x_col[members], np.ones(len(members)))
        bounds(1, 0.0, float(caps[msme]))
        next_row += 1
    total_row = next_row
    add(np.full(n, total_row, dtype=np.int64), x_col, np.ones(n))
    bounds(1, 0.0, float(demand))
    next_row += 1
    num_col = 2 * n
    col_lower = np.zeros(num_col)
    col_upper = np.empty(num_col)
    col_upper[x_col] = high
    col_upper[y_col] = 1.0
    if min_msmes:
        # u[m] ≤ Σ y of MSME m, Σ u ≥ k: at least k distinct MSMEs supply something
        u_col = num_col + np.arange(len(msmes), dtype=np.int64)
        link_rows = next_row + msme_of_pair
        add(next_row + np.arange(len(msmes), dtype=np.int64), u_col, np.ones(len(msmes)))
        add(link_rows, y_col, -np.ones(n))
        bounds(len(msmes), -inf, 0.0)
        next_row += len(msmes)
        add(np.full(len(msmes), next_row, dtype=np.int64), u_col, np.ones(len(msmes)))
        bounds(1, float(min_msmes), inf)
        next_row += 1
        num_col += len(msmes)
        col_lower = np.concatenate([col_lower, np.zeros(len(msmes))])
        col_upper = np.concatenate([col_upper, np.ones(len(msmes))])

    row, col, value = np.concatenate(rows), np.concatenate(cols), np.concatenate(values)
    order = np.lexsort((row, col))  # column-wise, rows ascending within a column
    lp = highspy.HighsLp()
    lp.num_col_ = num_col
    lp.num_row_ = next_row
    lp.col_cost_ = np.zeros(num_col)
    lp.col_lower_ = col_lower
    lp.col_upper_ = col_upper
    lp.row_lower_ = np.concatenate(lower)
    lp.row_upper_ = np.concatenate(upper)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_ = num_col
    lp.a_matrix_.num_row_ = next_row
    lp.a_matrix_.start_ = np.searchsorted(col[order], np.arange(num_col + 1)).astype(np.int32)
    lp.a_matrix_.index_ = row[order].astype(np.int32)
    lp.a_matrix_.value_ = value[order]
    lp.integrality_ = [highspy.HighsVarType.kInteger] * num_col
    return _Model(offer_of_pair, pair_cost, fixed_cost, lp, total_row)


def _solver(time_limit: float) -> _Highs:
    highs = _Highs()  # the plain binding: no banner, no Python callbacks
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("threads", 1)
    highs.setOptionValue("random_seed", RANDOM_SEED)
    highs.setOptionValue("time_limit", max(time_limit, 0.05))
    return highs


def _read(highs: _Highs, model: _Model) -> dict[int, int]:
    values = np.asarray(highs.getSolution().col_value)
    x = np.rint(values[0 : 2 * len(model.offer_of_pair) : 2]).astype(np.int64)
    return {int(model.offer_of_pair[p]): int(x[p]) for p in np.flatnonzero(x > 0)}


def _status(highs: _Highs) -> tuple[str, bool]:
    """The run's status, and whether it holds a feasible solution."""
    status = highs.getModelStatus()
    if status == highspy.HighsModelStatus.kOptimal:
        return "optimal", True
    if status == highspy.HighsModelStatus.kInfeasible:
        return "infeasible", False
    return "time_limit", highs.getInfo().primal_solution_status == _FEASIBLE


def solve(
    offers: Sequence[Offer],
    demand: int,
    caps: dict[UUID, int],
    *,
    min_msmes: int | None,
    start: dict[int, int],
    time_limit_s: float,
    mip_gap: float,
) -> MipOutcome:
    """Most quantity first, then least weighted cost at that quantity. `start` is any feasible filling.

    The start is not handed to HiGHS as a MIP start: HiGHS 1.16 was seen returning such a start unchanged
    while reporting the better objective it had found in its presolved space (with equal-cost tiers). It
    serves to skip phase 1 when it already reaches the demand, and as the answer if phase 2 runs out of
    time before finding any solution.
    """
    began = time.perf_counter()
    model = _build(offers, demand, caps, min_msmes)
    n = len(model.offer_of_pair)
    start_is_valid = len({offers[i].msme_id for i in start}) >= (min_msmes or 0)
    phase_one = "optimal"
    best = start
    if not (start_is_valid and sum(start.values()) == demand):  # a full valid start needs no phase 1
        highs = _solver(time_limit_s)
        costs = np.zeros(model.lp.num_col_)
        costs[0 : 2 * n : 2] = -1.0
        model.lp.col_cost_ = costs
        highs.passModel(model.lp)
        highs.setOptionValue("mip_rel_gap", 0.0)
        highs.setOptionValue("mip_abs_gap", 0.99)  # quantities are integers
        highs.run()
        phase_one, found = _status(highs)
        if phase_one == "infeasible":
            return MipOutcome({}, phase_one, 0.0)
        if found:
            best = _read(highs, model)
        elif not start_is_valid:  # out of time with nothing to show
            return MipOutcome({}, phase_one, 1.0)
    target = sum(best.values())
    if target == 0:
        return MipOutcome({}, phase_one, 0.0)
    highs = _solver(time_limit_s - (time.perf_counter() - began))
    costs = np.zeros(model.lp.num_col_)
    costs[0 : 2 * n : 2] = model.pair_cost
    costs[1 : 2 * n : 2] = model.fixed_cost
    model.lp.col_cost_ = costs
    row_lower, row_upper = np.asarray(model.lp.row_lower_), np.asarray(model.lp.row_upper_)
    row_lower[model.total_row] = row_upper[model.total_row] = float(target)
    model.lp.row_lower_, model.lp.row_upper_ = row_lower, row_upper
    highs.passModel(model.lp)
    highs.setOptionValue("mip_rel_gap", mip_gap)
    highs.run()
    phase_two, found = _status(highs)
    if not found:  # out of time before any solution: keep the phase 1 answer, gap unknown
        return MipOutcome(best, "time_limit", 1.0)
    status = phase_two if phase_one == "optimal" else phase_one
    return MipOutcome(_read(highs, model), status, float(highs.getInfo().mip_gap))
