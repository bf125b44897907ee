"""Allocation at scale: a restricted model over the offers near the margin, proven against a Lagrangian bound.

With the bound L of ``allocation_bound``, every allocation of T units costs L plus the excesses h_i ≥ 0 of
its offers. So an allocation that costs at most L + Δ gives no offer an excess above Δ: each offer keeps
only the quantities with h_i ≤ Δ. Most offers keep one choice (nothing, or their whole capacity) and drop
out of the model; the few near their marginal price form a small model that HiGHS solves quickly.

The first round fixes every offer that must supply at one tier at its own best quantity, and starts HiGHS
from a simple filling of the rest: a heuristic, judged against L alone, that at scale already meets the gap.
The answer is proven as follows. If the restricted model's best U has U − L ≤ Δ, every allocation cheaper
than U lay inside it, so its optimum is the full model's and HiGHS's dual bound holds for the full model
too; in any case L is a lower bound, so the gap reported is (U − max(L, that dual bound)) / U. Otherwise Δ
grows to U − L and the model is solved again. Phase 1 needs no solve: T is an upper bound on what can be
allocated (demand, capacity, share caps), so reaching it proves it the most. When the rounds do not settle
the answer, the caller falls back to the full model, starting from the best answer they found.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from services.pooling.domain.allocation_bound import Bound, lagrangian_bound
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
MARGIN_OFFERS = 64  # at least this many offers are left free in the first round
AIM = 0.1  # HiGHS closes the restricted model to a tenth of the gap: it is small, and L is the weaker bound
TOLERANCE = 1e-9  # relative, on costs: widens each offer's kept range beyond Δ against rounding


@dataclass(frozen=True)
class Restriction:
    chosen: Selection
    fixed: Ints  # per offer: the quantity it must supply outside the model (0 for the others)
    fixed_cost: float


def restrict(table: TierTable, bound: Bound, delta: float, *, settle: bool) -> Restriction | None:
    """Each offer's quantities with an excess h ≤ Δ; None when the offers kept in cannot fit together.

    With ``settle``, an offer that must supply at one tier is fixed at its own best quantity (its whole
    capacity there) instead of keeping the range within Δ, unless its MSME's share cap binds: a heuristic
    model of the margin alone, whose answer is then judged against L only.
    """
    allowance = delta + TOLERANCE * max(1.0, abs(bound.value))
    slope = table.unit_cost - bound.price[table.offer]
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
    point = single & ~bound.capped if settle else single & (low[last_kept] == high[last_kept])
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
        options = [(min(high[p], most), p) for p in range(first, end) if min(high[p], most) >= low[p]]
        best, pair = max(options, default=(0.0, first))
        if best > held:
            quantity[first:end] = [0.0] * (end - first)
            quantity[pair] = best
            remaining -= best - held
            cap_left[msme[k]] -= best - held
    return np.array(quantity) if remaining == 0 else None


def solve(
    table: TierTable, demand: int, min_msmes: int | None, start: dict[int, int], clock: Stopwatch, mip_gap: float
) -> MipOutcome | None:
    """The most quantity at the least cost; unsettled ("time_limit") or None when the rounds cannot prove it."""
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
        found, cost, dual, settled = None, math.inf, -math.inf, False
        open_quantity = target - int(restriction.fixed.sum()) if restriction else -1
        if restriction is not None and open_quantity >= 0:
            model = build(table, restriction.chosen, open_quantity, min_msmes)
            clock.lap("model")
            first = _inside(table, restriction, best) if best is not None else None
            first = fill(table, restriction, open_quantity, bound) if first is None else first
            settled_cost = restriction.fixed_cost
            highs = least_cost(model, open_quantity, clock.left(), mip_gap * AIM, offset=settled_cost, start=first)
            clock.lap("phase 2")
            status, has_solution = outcome(highs)
            if has_solution:
                found = quantities(highs, model)
                found.update({int(i): int(restriction.fixed[i]) for i in np.flatnonzero(restriction.fixed)})
                cost = table.cost(found)
                info = highs.getInfo()
                dual = float(info.mip_dual_bound)
                # HiGHS 1.16 once returned a MIP start unchanged while reporting a better objective: trust its
                # word on optimality only when the answer it returns costs what it reports
                honest = abs(cost - float(info.objective_function_value)) <= 1e-9 * max(1.0, abs(cost))
                settled = status == "optimal" and honest
        if cost < upper:
            best, upper = found, cost
        if best is None or found is None:
            delta *= 1.0 if settle else 8.0  # nothing inside: widen, unless only the margin was tried
            continue
        covered = not settle and upper - bound.value <= delta  # nothing cheaper lies outside the model
        lower = max(bound.value, dual) if covered else bound.value
        gap = max(0.0, (upper - lower) / upper) if upper > 0 else 0.0
        if gap <= mip_gap or (covered and settled):  # settled: HiGHS closed the model's gap to its tolerances
            return MipOutcome(best, "optimal", gap, clock.laps)
        delta = max(delta if settle else 4.0 * delta, upper - bound.value)
    if best is None:
        return None
    return MipOutcome(best, "time_limit", gap, clock.laps)  # unsettled: out of time, or out of rounds


def _inside(table: TierTable, restriction: Restriction, answer: dict[int, int]) -> Floats | None:
    """An earlier answer as x per chosen pair, if it lies inside the restricted model."""
    supplied = np.zeros(table.offers, dtype=np.int64)
    supplied[list(answer)] = list(answer.values())
    fixed = restriction.fixed > 0
    if (supplied[fixed] != restriction.fixed[fixed]).any() or (restriction.chosen.required & (supplied == 0)).any():
        return None
    chosen = restriction.chosen
    quantity = supplied[table.offer[chosen.pairs]].astype(np.float64)
    at = (quantity >= chosen.low) & (quantity <= chosen.high) & (quantity > 0)
    placed = np.bincount(table.offer[chosen.pairs[at]], minlength=table.offers)
    if (placed != ((supplied > 0) & ~fixed)).any():  # a quantity outside the kept ranges, or an offer left out
        return None
    return np.where(at, quantity, 0.0)


def _first_allowance(table: TierTable, bound: Bound) -> float:
    """Δ for the first round: one MSME's handling cost, and at least enough to leave a few dozen offers free.

    An offer's own decision costs it −g_i to undo when it supplies, and its cheapest entry when it does not;
    the model of the margin holds the offers whose decision is that cheap to change.
    """
    fixed = table.fixed_cost[table.offer]
    slope = table.unit_cost - bound.price[table.offer]
    at_low, at_high = slope * table.low + fixed, slope * table.high + fixed
    entry = np.minimum.reduceat(np.minimum(at_low, at_high), table.first)
    change = np.where(bound.best < 0, -bound.best, entry)
    kth = min(MARGIN_OFFERS, len(change) - 1)
    return max(float(table.fixed_cost.max()), float(np.partition(change, kth)[kth]), 1.0)
