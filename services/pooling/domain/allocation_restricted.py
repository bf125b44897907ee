"""Allocation at scale: a restricted model over the offers near the margin, proven against a Lagrangian bound.

Price the demand row at λ and each offer decides alone: g_i(λ) = min(0, min over its tiers and quantities of
(c − λ)·q + F) ≤ 0. Leaving out the share-cap rows of MSMEs with several products and the minimum number of
MSMEs only loosens the problem, so for every λ, L(λ) = λ·T + Σ g_i(λ) ≤ the least cost of allocating exactly
T units. For any allocation q of T units, cost(q) − L(λ) = Σ_i h_i(q_i) with h_i(q) = (c − λ)·q + F − g_i ≥ 0
(and h_i(0) = −g_i). So an allocation that costs at most L + Δ gives no offer an excess above Δ: each offer
keeps only the quantities with h_i ≤ Δ. Most offers keep one choice (nothing, or its whole capacity) and
drop out of the model; the few near the marginal cost λ form a small model HiGHS solves quickly.

The first round fixes every offer that must supply at one tier at its own best quantity, and starts HiGHS
from a simple filling of the rest: a heuristic, judged against L alone, that at scale already meets the gap.
The answer is proven as follows. If the restricted model's best U has U − L ≤ Δ, every allocation cheaper
than U lay inside it, so its optimum is the full model's and HiGHS's dual bound holds for the full model
too; in any case L is a lower bound, so the gap reported is (U − max(L, that dual bound)) / U. Otherwise Δ
grows to U − L and the model is solved again. Phase 1 needs no solve: T is an upper bound on what can be
allocated (demand, capacity, share caps), so reaching it proves it the most. When the rounds do not settle
the answer in time, the caller falls back to the full model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from services.pooling.domain.allocation_program import (
    Floats,
    Ints,
    MipOutcome,
    Selection,
    Stopwatch,
    TierTable,
    build,
    least_cost,
    outcome,
    quantities,
)

ROUNDS = 8  # each round after the first at least quadruples Δ, or sets it to U − L, which settles it
BISECTIONS = 100
TOLERANCE = 1e-9  # relative, on costs: widens each offer's kept range beyond Δ against rounding


@dataclass(frozen=True)
class Bound:
    price: float  # λ: the marginal weighted cost of a unit at the target
    value: float  # L(λ) ≤ the least cost of allocating the target
    best: Floats  # per offer: g_i(λ)


@dataclass(frozen=True)
class Restriction:
    chosen: Selection
    fixed: Ints  # per offer: the quantity it must supply outside the model (0 for the others)
    fixed_cost: float


def lagrangian_bound(table: TierTable, target: int) -> Bound:
    """L(λ) at the λ where the offers' own best quantities reach the target (bisection on a monotone supply)."""
    fixed = table.fixed_cost[table.offer]

    def best_at(price: float) -> tuple[Floats, Floats]:
        slope = table.unit_cost - price
        at_low, at_high = slope * table.low + fixed, slope * table.high + fixed
        pair_best = np.minimum(at_low, at_high)
        best = np.minimum(np.minimum.reduceat(pair_best, table.first), 0.0)
        quantity = np.where(at_high <= at_low, table.high, table.low)
        chosen = np.where(pair_best <= best[table.offer], quantity, 0.0)
        return best, np.maximum.reduceat(chosen, table.first)  # the largest quantity among ties

    lower = float(np.min(table.unit_cost + fixed / table.high)) - 1.0  # below it every offer supplies nothing
    upper = float(np.max(table.unit_cost * table.capacity[table.offer] + fixed / table.low)) + 1.0
    while best_at(upper)[1].sum() < target:  # capacity ≥ target, so this ends
        upper = 2.0 * upper + 1.0
    for _ in range(BISECTIONS):
        middle = (lower + upper) / 2.0
        if not lower < middle < upper:
            break
        if best_at(middle)[1].sum() >= target:
            upper = middle
        else:
            lower = middle
    bounds = [
        Bound(price, price * target + float(best.sum()), best)
        for price in (lower, upper)
        for best, _ in [best_at(price)]
    ]
    return max(bounds, key=lambda bound: bound.value)


def restrict(table: TierTable, bound: Bound, delta: float, *, settle: bool) -> Restriction | None:
    """Each offer's quantities with an excess h ≤ Δ; None when the offers kept in cannot fit together.

    With ``settle``, an offer that must supply at one tier is fixed at its own best quantity (its whole
    capacity there) instead of keeping the range within Δ: a heuristic model of the margin alone, whose
    answer is then judged against L only.
    """
    allowance = delta + TOLERANCE * max(1.0, abs(bound.value))
    slope = table.unit_cost - bound.price
    room = allowance + bound.best[table.offer] - table.fixed_cost[table.offer]  # (c − λ)·q ≤ room
    with np.errstate(divide="ignore", invalid="ignore"):
        limit = room / slope
    low = np.where(slope < 0, np.maximum(table.low, np.ceil(limit)), table.low)
    high = np.where(slope > 0, np.minimum(table.high, np.floor(limit)), table.high)
    high = np.where((slope == 0) & (room < 0), -1.0, high)
    kept = low <= high
    may_be_zero = -bound.best <= allowance
    kept_pairs = np.add.reduceat(kept.astype(np.int64), table.first)
    last_kept = np.maximum.reduceat(np.where(kept, np.arange(len(kept)), -1), table.first)
    single = (kept_pairs == 1) & ~may_be_zero
    point = single if settle else single & (low[last_kept] == high[last_kept])
    own_best = np.where(slope[last_kept] < 0, high[last_kept], low[last_kept])
    fixed = np.where(point, own_best, 0.0).astype(np.int64)
    free = ~point & ~(may_be_zero & (kept_pairs == 0))
    pairs = np.flatnonzero(kept & free[table.offer])
    supplying = np.flatnonzero(fixed)
    cap_left = table.msme_cap - np.bincount(table.msme[supplying], weights=fixed[supplying], minlength=table.msmes)
    if (cap_left < 0).any():
        return None
    counted = np.zeros(table.msmes, dtype=np.bool_)
    counted[table.msme[supplying]] = True
    fixed_pairs = last_kept[supplying]
    fixed_cost = float((table.unit_cost[fixed_pairs] * fixed[supplying]).sum() + table.fixed_cost[supplying].sum())
    chosen = Selection(pairs, low[pairs], high[pairs], ~may_be_zero, cap_left, counted)
    return Restriction(chosen, fixed, fixed_cost)


def fill(table: TierTable, restriction: Restriction, open_quantity: int, bound: Bound) -> Floats | None:
    """A first answer inside the restricted model (x per chosen pair), or None if this simple filling fails.

    Offers that must supply take their least; then offers take what they can, most worth having at λ first.
    """
    chosen = restriction.chosen
    offer = table.offer[chosen.pairs]
    starts = np.flatnonzero(np.r_[True, offer[1:] != offer[:-1]])
    offers = offer[starts]
    bounds = list(zip(starts.tolist(), [*starts[1:].tolist(), len(offer)], strict=True))
    low, high = chosen.low.tolist(), chosen.high.tolist()
    msme = table.msme[offers].tolist()
    required = chosen.required[offers]
    quantity = [0.0] * len(offer)
    cap_left = chosen.msme_cap.tolist()
    remaining = float(open_quantity)
    for k in np.flatnonzero(required).tolist():
        first, end = bounds[k]
        pair = min(range(first, end), key=lambda p: low[p])
        quantity[pair] = low[pair]
        remaining -= low[pair]
        cap_left[msme[k]] -= low[pair]
    if remaining < 0 or min(cap_left, default=0.0) < 0:
        return None
    for k in np.lexsort((offers, bound.best[offers], ~required)).tolist():
        if remaining == 0:
            break
        first, end = bounds[k]
        held = sum(quantity[first:end])
        most = held + min(remaining, cap_left[msme[k]])
        pair, best = max(((p, min(high[p], most)) for p in range(first, end)), key=lambda option: option[1])
        if best > held and best >= low[pair]:
            quantity[first:end] = [0.0] * (end - first)
            quantity[pair] = best
            remaining -= best - held
            cap_left[msme[k]] -= best - held
    return np.array(quantity) if remaining == 0 else None


def solve(
    table: TierTable, demand: int, min_msmes: int | None, start: dict[int, int], clock: Stopwatch, mip_gap: float
) -> MipOutcome | None:
    """The most quantity at the least cost, or None when the restricted models cannot settle it in time."""
    target = table.most_quantity(demand)
    if target == 0:
        return None
    bound = lagrangian_bound(table, target)
    start_fits = len({int(table.msme[i]) for i in start}) >= (min_msmes or 0) and sum(start.values()) == target
    best, upper = (start, table.cost(start)) if start_fits else (None, math.inf)
    delta = _first_allowance(table, bound)
    gap = 1.0
    clock.lap("bound")
    for round_number in range(ROUNDS):
        if clock.left() <= 0:
            break
        settle = round_number == 0
        restriction = restrict(table, bound, delta, settle=settle)
        found, dual, settled = None, -math.inf, False
        open_quantity = target - int(restriction.fixed.sum()) if restriction else -1
        if restriction is not None and open_quantity >= 0:
            model = build(table, restriction.chosen, open_quantity, min_msmes)
            clock.lap("model")
            first = fill(table, restriction, open_quantity, bound) if settle else None
            highs = least_cost(model, open_quantity, clock.left(), mip_gap, offset=restriction.fixed_cost, start=first)
            clock.lap("phase 2")
            status, has_solution = outcome(highs)
            if has_solution:
                found = quantities(highs, model)
                found.update({int(i): int(restriction.fixed[i]) for i in np.flatnonzero(restriction.fixed)})
                dual, settled = float(highs.getInfo().mip_dual_bound), status == "optimal"
        if found is not None and (cost := table.cost(found)) < upper:
            best, upper = found, cost
        if best is None:
            delta *= 1.0 if settle else 8.0
            continue
        covered = not settle and found is not None and upper - bound.value <= delta  # nothing cheaper outside
        lower = max(bound.value, dual) if covered else bound.value
        gap = max(0.0, (upper - lower) / upper) if upper > 0 else 0.0
        if gap <= mip_gap or (covered and settled):  # settled: HiGHS closed the model's gap to its tolerances
            return MipOutcome(best, "optimal", gap, clock.laps)
        delta = max(delta if settle else 4.0 * delta, upper - bound.value)
    if best is None or clock.left() > 0:  # no answer, or the rounds ran out before the time: the full model
        return None
    return MipOutcome(best, "time_limit", gap, clock.laps)


def _first_allowance(table: TierTable, bound: Bound) -> float:
    """Δ for the first round: a few MSMEs' handling cost, enough for the few offers split at the margin."""
    return max(4.0 * float(table.fixed_cost.max()), 1e-6 * abs(bound.value), 1.0)
