"""A Lagrangian lower bound on the least cost of allocating exactly T units, with MSMEs' share caps priced in.

Price the demand row at λ, and the share-cap row of each MSME with several products at μ_m ≥ 0. Then each
offer decides alone at its own price λ_i = λ − μ_m:

    g_i = min(0, min over its tiers and quantities of (c − λ_i)·q + F) ≤ 0,
    L   = λ·T − Σ_m μ_m·cap_m + Σ_i g_i.

For every λ and every μ ≥ 0, L is at most the cost of any allocation q of T units within the caps, since
cost(q) − L = Σ_i h_i(q_i) + Σ_m μ_m·(cap_m − Σ_{i∈m} q_i), every term ≥ 0, with h_i(q) = (c − λ_i)·q + F − g_i
(and h_i(0) = −g_i): the excess ``allocation_restricted`` prunes with. Leaving out the minimum number of
MSMEs only loosens the problem. λ comes from a bisection on the supply (each offer's own best quantity,
at most each MSME's cap), μ_m from a bisection on the supply of each MSME that would exceed its cap at λ.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from services.pooling.domain.allocation_program import Flags, Floats, Ints, TierTable

BISECTIONS = 100


@dataclass(frozen=True)
class Bound:
    value: float  # L ≤ the least cost of allocating the target
    price: Floats  # per offer: λ_i, the weighted cost per unit at which it is worth the same to supply or not
    best: Floats  # per offer: g_i
    capped: Flags  # per offer: its MSME's share cap binds (μ_m > 0)


@dataclass(frozen=True)
class _Tiers:
    """Some offers' tiers, grouped by offer, and each offer's best choice at given prices."""

    unit_cost: Floats
    low: Floats
    high: Floats
    fixed_cost: Floats  # per pair, its offer's
    first: Ints  # per offer: its first pair
    offer: Ints  # per pair: index among these offers
    msme: Ints  # per offer: the MSME's index in the table

    @classmethod
    def of(cls, table: TierTable, offers: Flags) -> _Tiers:
        pairs = offers[table.offer]
        offer = table.offer[pairs]
        first = np.flatnonzero(np.r_[True, offer[1:] != offer[:-1]]) if len(offer) else np.zeros(0, dtype=np.int64)
        local = np.cumsum(np.r_[False, offer[1:] != offer[:-1]]) if len(offer) else offer
        return cls(
            table.unit_cost[pairs],
            table.low[pairs],
            table.high[pairs],
            table.fixed_cost[offer],
            first,
            local,
            table.msme[offer[first]] if len(offer) else offer,
        )

    def choose(self, price: Floats) -> tuple[Floats, Floats]:
        """Per offer at a price per pair: g, and its best quantity (the largest among ties; 0 if g is 0 and
        nothing ties with it)."""
        slope = self.unit_cost - price
        at_low, at_high = slope * self.low + self.fixed_cost, slope * self.high + self.fixed_cost
        pair_best = np.minimum(at_low, at_high)
        best = np.minimum(np.minimum.reduceat(pair_best, self.first), 0.0)
        quantity = np.where(at_high <= at_low, self.high, self.low)
        chosen = np.where(pair_best <= best[self.offer], quantity, 0.0)
        return best, np.maximum.reduceat(chosen, self.first)


def lagrangian_bound(table: TierTable, target: int) -> Bound:
    """The larger of L at the two ends of the bisection on λ, each with the caps priced at that λ."""
    every = _Tiers.of(table, np.ones(table.offers, dtype=np.bool_))
    several = np.bincount(table.msme, minlength=table.msmes)[table.msme] > 1
    shared = _Tiers.of(table, several)

    def supply(price: float) -> float:
        _, quantity = every.choose(np.full(len(every.offer), price))
        per_msme = np.bincount(table.msme, weights=quantity, minlength=table.msmes)
        return float(np.minimum(per_msme, table.msme_cap).sum())

    lower = float(np.min(table.unit_cost + every.fixed_cost / table.high)) - 1.0  # every offer supplies nothing
    upper = float(np.max(table.unit_cost * table.capacity[table.offer] + every.fixed_cost / table.low)) + 1.0
    while supply(upper) < target:  # at a high enough price every offer supplies its capacity: ≥ target
        upper = 2.0 * upper + 1.0
    for _ in range(BISECTIONS):
        middle = (lower + upper) / 2.0
        if not lower < middle < upper:
            break
        if supply(middle) >= target:
            upper = middle
        else:
            lower = middle
    bounds = [_bound_at(table, every, shared, price, target) for price in (lower, upper)]
    return max(bounds, key=lambda bound: bound.value)


def _bound_at(table: TierTable, every: _Tiers, shared: _Tiers, price: float, target: int) -> Bound:
    cap_price = _cap_prices(table, shared, price)
    offer_price = price - cap_price[table.msme]
    best, _ = every.choose(offer_price[table.offer])
    value = price * target - float((cap_price * table.msme_cap).sum()) + float(best.sum())
    return Bound(value, offer_price, best, (cap_price > 0)[table.msme])


def _cap_prices(table: TierTable, shared: _Tiers, price: float) -> Floats:
    """μ per MSME: 0, or where its products would together exceed its cap at λ, the least μ that keeps them
    within it (bisection on each such MSME's supply at λ − μ, all at once)."""
    cap_price = np.zeros(table.msmes)
    if not len(shared.offer):
        return cap_price
    msme_of_pair = shared.msme[shared.offer]

    def over(mu: Floats) -> Flags:
        _, quantity = shared.choose(price - mu[msme_of_pair])
        return np.bincount(shared.msme, weights=quantity, minlength=table.msmes) > table.msme_cap

    capped = over(cap_price)
    if not capped.any():
        return cap_price
    breakeven = np.full(table.msmes, np.inf)
    np.minimum.at(breakeven, msme_of_pair, shared.unit_cost + shared.fixed_cost / shared.high)
    lower = np.zeros(table.msmes)
    upper = np.where(capped, np.maximum(price - breakeven, 0.0) + 1.0, 0.0)  # there: nothing is worth supplying
    for _ in range(BISECTIONS):
        middle = (lower + upper) / 2.0
        if not ((lower < middle) & (middle < upper))[capped].any():
            break
        too_much = over(middle)
        lower = np.where(capped & too_much, middle, lower)
        upper = np.where(capped & ~too_much, middle, upper)
    return upper
