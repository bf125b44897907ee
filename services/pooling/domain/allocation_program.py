"""The allocation program as arrays: every offer's price tiers in one table, and the HiGHS model over any part of it.

Per offer i and price tier j there is an integer quantity x[i,j] and a binary y[i,j] ("supplies at this
tier"), with low[i,j]·y ≤ x ≤ high[i,j]·y and Σ_j y[i,j] ≤ 1, so an MSME supplies nothing or at least its
MOQ, at exactly one tier, within capacity and share cap. A handling cost is paid on each y. Where an MSME
offers several products, one row keeps their sum within its share cap; a minimum number of MSMEs adds a
binary per MSME. The full model takes every tier as it is; the restricted one (``allocation_restricted``)
takes some tiers with narrower ranges, offers that must supply, and what fixed offers already use.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from uuid import UUID

import highspy
import numpy as np
import numpy.typing as npt
from highspy._core import _Highs

from services.pooling.domain.allocation_offers import Offer

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Flags = npt.NDArray[np.bool_]

RANDOM_SEED = 20_240_917
_FEASIBLE = 2  # HiGHS solution status: a feasible point is available


@dataclass(frozen=True, slots=True)
class MipOutcome:
    quantities: dict[int, int]  # offer index → quantity (only offers that supply)
    status: str  # "optimal", "time_limit" or "infeasible"
    mip_gap: float
    timings: dict[str, float]  # seconds per stage: "model", "bound", "phase 1", "phase 2"


@dataclass
class Stopwatch:
    """Where the solver's time goes, and how much of its limit is left."""

    deadline: float
    laps: dict[str, float] = field(default_factory=dict)
    _since: float = field(default_factory=time.perf_counter)

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.laps[stage] = self.laps.get(stage, 0.0) + now - self._since
        self._since = now

    def left(self) -> float:
        return self.deadline - time.perf_counter()


@dataclass(frozen=True)
class TierTable:
    """Every (offer, tier) pair, grouped by offer in offer order; costs are weighted, in the pool's currency."""

    offer: Ints  # per pair: the offer's index
    low: Floats  # per pair: smallest quantity at the tier
    high: Floats  # per pair: largest quantity at the tier
    unit_cost: Floats  # per pair
    first: Ints  # per offer: its first pair
    fixed_cost: Floats  # per offer: handling, paid when it supplies anything
    capacity: Floats  # per offer: most it may supply
    msme: Ints  # per offer: index into the MSMEs in id order
    msme_cap: Floats  # per MSME: its share cap over all its products

    @classmethod
    def of(cls, offers: Sequence[Offer], caps: dict[UUID, int]) -> TierTable:
        msmes = sorted({offer.msme_id.int for offer in offers})  # as the ids sort
        index_of = {msme: k for k, msme in enumerate(msmes)}
        caps_of = {msme.int: cap for msme, cap in caps.items()}
        tiers = [(i, t.low, t.high, float(t.unit_cost)) for i, offer in enumerate(offers) for t in offer.tiers]
        offer, low, high, unit_cost = zip(*tiers, strict=True)
        counts = [len(offer.tiers) for offer in offers]
        return cls(
            offer=np.array(offer, dtype=np.int64),
            low=np.array(low, dtype=np.float64),
            high=np.array(high, dtype=np.float64),
            unit_cost=np.array(unit_cost, dtype=np.float64),
            first=np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64),
            fixed_cost=np.array([float(offer.fixed_cost) for offer in offers], dtype=np.float64),
            capacity=np.array([offer.capacity for offer in offers], dtype=np.float64),
            msme=np.array([index_of[offer.msme_id.int] for offer in offers], dtype=np.int64),
            msme_cap=np.array([caps_of[msme] for msme in msmes], dtype=np.float64),
        )

    @property
    def offers(self) -> int:
        return len(self.first)

    @property
    def msmes(self) -> int:
        return len(self.msme_cap)

    def most_quantity(self, demand: int) -> int:
        """An upper bound on what can be allocated: demand, capacity and every MSME's share cap."""
        per_msme = np.bincount(self.msme, weights=self.capacity, minlength=self.msmes)
        return int(min(demand, np.minimum(per_msme, self.msme_cap).sum()))

    def cost(self, quantities: dict[int, int]) -> float:
        """The weighted cost of an allocation (offer index → quantity), as the solver counts it."""
        offers = np.fromiter(quantities, dtype=np.int64, count=len(quantities))
        supplied = np.zeros(self.offers)
        supplied[offers] = np.fromiter(quantities.values(), dtype=np.float64, count=len(quantities))
        per_pair = supplied[self.offer]
        at = (per_pair > 0) & (per_pair >= self.low) & (per_pair <= self.high)
        return float((self.unit_cost[at] * per_pair[at]).sum() + self.fixed_cost[offers].sum())


@dataclass(frozen=True)
class Selection:
    """The part of the table a model is built over."""

    pairs: Ints  # which pairs, ascending
    low: Floats  # per chosen pair
    high: Floats  # per chosen pair
    required: Flags  # per offer: must supply (its zero quantity is ruled out)
    msme_cap: Floats  # per MSME: share cap left
    counted: Flags  # per MSME: already supplies outside the model (towards a minimum number of MSMEs)

    @classmethod
    def everything(cls, table: TierTable) -> Selection:
        return cls(
            pairs=np.arange(len(table.offer), dtype=np.int64),
            low=table.low,
            high=table.high,
            required=np.zeros(table.offers, dtype=np.bool_),
            msme_cap=table.msme_cap,
            counted=np.zeros(table.msmes, dtype=np.bool_),
        )


@dataclass(frozen=True)
class Model:
    lp: highspy.HighsLp
    offer_of_pair: Ints  # per chosen pair: the offer's index in the table
    msme_of_pair: Ints  # per chosen pair: the MSME's index in the table
    pair_cost: Floats  # per chosen pair, per unit
    fixed_cost: Floats  # per chosen pair, paid when its y is 1
    total_row: int
    counting: Ints  # the MSMEs with a u column (towards a minimum number), in column order

    def solution(self, quantity: Floats) -> highspy.HighsSolution:
        """Column values for x per chosen pair (0 where the pair is not the offer's tier)."""
        n = len(self.offer_of_pair)
        values = np.zeros(self.lp.num_col_)
        values[0 : 2 * n : 2] = quantity
        values[1 : 2 * n : 2] = quantity > 0
        values[2 * n :] = np.isin(self.counting, self.msme_of_pair[quantity > 0])
        solution = highspy.HighsSolution()
        solution.col_value = values
        solution.value_valid = True
        return solution


def build(table: TierTable, chosen: Selection, demand: int, min_msmes: int | None) -> Model:
    """The program over the chosen pairs with Σx ≤ demand and no costs yet: each phase sets its own."""
    n = len(chosen.pairs)
    offer_of_pair = table.offer[chosen.pairs]
    offers, local_offer = np.unique(offer_of_pair, return_inverse=True)
    msme_of_pair = table.msme[offer_of_pair]
    high = np.minimum(chosen.high, chosen.msme_cap[msme_of_pair])
    x_col = 2 * np.arange(n, dtype=np.int64)
    y_col = x_col + 1
    ones, each, inf = np.ones(n), np.arange(n, dtype=np.int64), highspy.kHighsInf
    rows = _Rows()
    rows.block(np.full(n, -inf), np.zeros(n), (each, x_col, ones), (each, y_col, -high))  # x ≤ high·y
    rows.block(np.zeros(n), np.full(n, inf), (each, x_col, ones), (each, y_col, -chosen.low))  # x ≥ low·y
    one_tier = np.ones(len(offers))
    rows.block(chosen.required[offers].astype(np.float64), one_tier, (local_offer, y_col, ones))
    # a share cap row per MSME with several offers here (a single offer's cap is in its bounds)
    offers_per_msme = np.bincount(table.msme[offers], minlength=table.msmes)
    several = offers_per_msme[msme_of_pair] > 1
    capped, cap_row = np.unique(msme_of_pair[several], return_inverse=True)
    rows.block(np.zeros(len(capped)), chosen.msme_cap[capped], (cap_row, x_col[several], ones[several]))
    total_row = rows.block(np.zeros(1), np.full(1, float(demand)), (np.zeros(n, dtype=np.int64), x_col, ones))
    col_upper = np.empty(2 * n)
    col_upper[x_col] = high
    col_upper[y_col] = 1.0
    still_needed = (min_msmes or 0) - int(chosen.counted.sum())
    msmes = np.zeros(0, dtype=np.int64)
    if still_needed > 0:
        # u[m] ≤ Σ y of MSME m, Σ u ≥ k: at least k more distinct MSMEs supply something
        counts = ~chosen.counted[msme_of_pair]
        msmes, local_msme = np.unique(msme_of_pair[counts], return_inverse=True)
        m = len(msmes)
        u_col = 2 * n + np.arange(m, dtype=np.int64)
        link = np.arange(m, dtype=np.int64)
        rows.block(np.full(m, -inf), np.zeros(m), (link, u_col, np.ones(m)), (local_msme, y_col[counts], -ones[counts]))
        rows.block(np.full(1, float(still_needed)), np.full(1, inf), (np.zeros(m, dtype=np.int64), u_col, np.ones(m)))
        col_upper = np.concatenate([col_upper, np.ones(m)])
    pairs = chosen.pairs
    lp = rows.lp(col_upper)
    return Model(
        lp, offer_of_pair, msme_of_pair, table.unit_cost[pairs], table.fixed_cost[offer_of_pair], total_row, msmes
    )


class _Rows:
    """Blocks of rows, each with its bounds and its nonzeros, laid out column-wise for HiGHS at the end."""

    def __init__(self) -> None:
        self.next_row = 0
        self._entries: list[tuple[Ints, Ints, Floats]] = []
        self._lower: list[Floats] = []
        self._upper: list[Floats] = []

    def block(self, lower: Floats, upper: Floats, *entries: tuple[Ints, Ints, Floats]) -> int:
        """Rows [start, start + len(lower)); each entry's rows count from the block's start. Returns the start."""
        start = self.next_row
        self._entries.extend((start + row, col, value) for row, col, value in entries)
        self._lower.append(lower)
        self._upper.append(upper)
        self.next_row += len(lower)
        return start

    def lp(self, col_upper: Floats) -> highspy.HighsLp:
        num_col = len(col_upper)
        row = np.concatenate([r for r, _, _ in self._entries])
        col = np.concatenate([c for _, c, _ in self._entries])
        value = np.concatenate([v for _, _, v in self._entries])
        order = np.lexsort((row, col))  # column-wise, rows ascending within a column
        lp = highspy.HighsLp()
        lp.num_col_ = num_col
        lp.num_row_ = self.next_row
        lp.col_cost_ = np.zeros(num_col)
        lp.col_lower_ = np.zeros(num_col)
        lp.col_upper_ = col_upper
        lp.row_lower_ = np.concatenate(self._lower)
        lp.row_upper_ = np.concatenate(self._upper)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.num_col_ = num_col
        lp.a_matrix_.num_row_ = self.next_row
        lp.a_matrix_.start_ = np.searchsorted(col[order], np.arange(num_col + 1)).astype(np.int32)
        lp.a_matrix_.index_ = row[order].astype(np.int32)
        lp.a_matrix_.value_ = value[order]
        lp.integrality_ = [highspy.HighsVarType.kInteger] * num_col
        return lp


def most_quantity(model: Model, time_limit: float) -> _Highs:
    """Phase 1: the most quantity within the demand (quantities are integers, so an absolute gap below 1)."""
    costs = np.zeros(model.lp.num_col_)
    costs[0 : 2 * len(model.offer_of_pair) : 2] = -1.0
    model.lp.col_cost_ = costs
    return _run(model, time_limit, rel_gap=0.0, abs_gap=0.99)


def least_cost(
    model: Model,
    target: int,
    time_limit: float,
    mip_gap: float,
    *,
    offset: float = 0.0,
    start: Floats | None = None,
) -> _Highs:
    """Phase 2: the least weighted cost at exactly ``target`` units; ``offset`` is the cost already settled.

    ``start`` (x per chosen pair) is handed to HiGHS as its first incumbent; see ``allocation_restricted``
    for why that is safe there and not in the full model.
    """
    n = len(model.offer_of_pair)
    costs = np.zeros(model.lp.num_col_)
    costs[0 : 2 * n : 2] = model.pair_cost
    costs[1 : 2 * n : 2] = model.fixed_cost
    model.lp.col_cost_ = costs
    model.lp.offset_ = offset  # so the relative gap is of the whole allocation's cost
    row_lower, row_upper = np.asarray(model.lp.row_lower_), np.asarray(model.lp.row_upper_)
    row_lower[model.total_row] = row_upper[model.total_row] = float(target)
    model.lp.row_lower_, model.lp.row_upper_ = row_lower, row_upper
    return _run(model, time_limit, rel_gap=mip_gap, abs_gap=None, start=start)


def _run(model: Model, time_limit: float, rel_gap: float, abs_gap: float | None, start: Floats | None = None) -> _Highs:
    highs = _Highs()  # the plain binding: no banner, no Python callbacks
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("threads", 1)
    highs.setOptionValue("random_seed", RANDOM_SEED)
    highs.setOptionValue("time_limit", max(time_limit, 0.05))
    highs.setOptionValue("mip_rel_gap", rel_gap)
    if abs_gap is not None:
        highs.setOptionValue("mip_abs_gap", abs_gap)
    highs.passModel(model.lp)
    if start is not None:
        highs.setSolution(model.solution(start))
    highs.run()
    return highs


def outcome(highs: _Highs) -> tuple[str, bool]:
    """The run's status ("optimal", "infeasible" or "time_limit"), and whether it holds a feasible solution."""
    status = highs.getModelStatus()
    if status == highspy.HighsModelStatus.kOptimal:
        return "optimal", True
    if status == highspy.HighsModelStatus.kInfeasible:
        return "infeasible", False
    return "time_limit", highs.getInfo().primal_solution_status == _FEASIBLE


def quantities(highs: _Highs, model: Model) -> dict[int, int]:
    """Offer index → quantity, for the offers of the model that supply."""
    values = np.asarray(highs.getSolution().col_value)
    x = np.rint(values[0 : 2 * len(model.offer_of_pair) : 2]).astype(np.int64)
    return {int(model.offer_of_pair[p]): int(x[p]) for p in np.flatnonzero(x > 0)}
