"""Benchmark of Gotong's allocation engine against the greedy baseline on seeded random pools.

    python bench/allocation.py            # 100, 1,000 and 10,000 candidate MSMEs, 3 seeds each
    python bench/allocation.py --quick    # 100 and 1,000 candidates, 1 seed
    python bench/allocation.py --sizes 10000,50000,100000 --seeds 1
    python bench/allocation.py --sizes 1000,10000 --decompose-from 1 --compare   # restricted against full

For every run it reports wall and CPU seconds and where the time went: screening the candidates, the greedy
start, building the model (and, at scale, the Lagrangian bound), phase 1 (most quantity), phase 2 (least
cost) and building the proposal. From ``Policy.decompose_from`` offers on the engine solves a restricted
model (``allocation_restricted``); ``--compare`` solves each instance with the full model as well and
reports the cost ratio and times (``--full-limit`` gives the full model more time than the policy's;
``--decompose-from 1`` makes the engine restrict at every size, to compare the two where both can solve).

Each instance: MOQs 50–500, capacity 100–3,000 a month over 3 months, 2–4 all-units price tiers with
discounts, quality scores 0.5–0.99, 0–1,500 km to the consolidation point, some MSMEs without the halal
certificate the pool requires, some priced in IDR (converted) or EUR (no rate: excluded). The "typical"
scenario asks for 20–40 % of the total capacity; "tight" asks for 75–85 % of it, close to or beyond what
the eligible MSMEs can make, so the first phase (most quantity) often runs too, and shortfalls show. Both
methods solve the same instance; the cost compared is the weighted objective (price + quality risk +
logistics + handling), and only where both allocate the same quantity.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from uuid import UUID

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from services.pooling.domain.allocation import (
    Candidate,
    Demand,
    Policy,
    PriceTier,
    Proposal,
    allocate,
    greedy,
)

MONTHS = ("2027-02", "2027-03", "2027-04")
IDR_PER_USD = Decimal(16_000)
TIER_STEPS = (100, 250, 500, 1_000, 2_000, 3_000)


def _price_tiers(rng: random.Random, usd_price: float, in_idr: bool) -> tuple[PriceTier, ...]:
    thresholds = [1, *sorted(rng.sample(TIER_STEPS, rng.randint(1, 3)))]
    tiers: list[PriceTier] = []
    price = usd_price
    for threshold in thresholds:
        value = Decimal(str(round(price * 16_000))) if in_idr else Decimal(f"{price:.2f}")
        tiers.append(PriceTier(threshold, value))
        price *= 1 - rng.uniform(0.03, 0.12)
    return tuple(tiers)


def candidate(rng: random.Random) -> Candidate:
    in_idr = rng.random() < 0.15
    currency = "IDR" if in_idr else ("EUR" if rng.random() < 0.02 else "USD")
    capacity = tuple((month, rng.randint(100, 3_000) if rng.random() > 0.05 else 0) for month in MONTHS)
    return Candidate(
        msme_id=UUID(int=rng.getrandbits(128)),
        product_id=UUID(int=rng.getrandbits(128)),
        msme_name="MSME",
        city="Cirebon",
        monthly_capacity=capacity,
        moq=rng.randint(50, 500),
        price_tiers=_price_tiers(rng, rng.uniform(6.0, 12.0), in_idr),
        currency=currency,
        quality_score=round(rng.uniform(0.5, 0.99), 3),
        qualified=rng.random() > 0.03,
        suspended=rng.random() < 0.01,
        certifications=frozenset({"halal"}) if rng.random() > 0.1 else frozenset(),
        distance_km=round(rng.uniform(0, 1_500), 1),
    )


SCENARIOS = {"typical": (0.2, 0.4), "tight": (0.75, 0.85)}  # demand as a share of the total capacity


def instance(size: int, seed: int, scenario: str = "typical") -> tuple[Demand, list[Candidate], Policy]:
    rng = random.Random(seed * 1_000_003 + size)
    candidates = [candidate(rng) for _ in range(size)]
    total = sum(c.window_capacity for c in candidates)
    demand = Demand(int(total * rng.uniform(*SCENARIOS[scenario])), "USD", frozenset({"halal"}))
    policy = Policy(
        max_share=Decimal("0.25"),
        exchange_rates={"IDR": 1 / IDR_PER_USD},
        rejection_penalty_per_unit=Decimal("2.00"),
        logistics_rate_per_unit_km=Decimal("0.0005"),
        handling_cost_per_msme=Decimal("150"),
        time_limit_s=30.0,
        mip_gap=0.01,
    )
    return demand, candidates, policy


STAGES = ("screening", "greedy start", "model", "bound", "phase 1", "phase 2", "proposal")
FULL_MODEL = 10**12  # decompose_from: never


@dataclass(frozen=True)
class Run:
    proposal: Proposal
    cpu: float

    @property
    def wall(self) -> float:
        return self.proposal.solve_seconds


def timed(demand: Demand, candidates: list[Candidate], policy: Policy) -> Run:
    began = time.process_time()
    proposal = allocate(demand, candidates, policy)
    return Run(proposal, time.process_time() - began)


@dataclass(frozen=True)
class Row:
    scenario: str
    size: int
    seed: int
    demand: int
    engine: Run
    baseline: Proposal
    full: Run | None  # the full model on the same instance, with --compare
    load: float  # one-minute load average when the row finished

    @property
    def mip(self) -> Proposal:
        return self.engine.proposal

    @property
    def advantage(self) -> Decimal:
        """Greedy cost / MIP cost at the same quantity (> 1: the MIP is cheaper)."""
        return self.baseline.objective / self.mip.objective


def run(scenario: str, size: int, seed: int, args: argparse.Namespace) -> Row:
    demand, candidates, policy = instance(size, seed, scenario)
    if args.decompose_from is not None:
        policy = replace(policy, decompose_from=args.decompose_from)
    engine = timed(demand, candidates, policy)
    baseline = greedy(demand, candidates, policy)
    full = None
    if args.compare:
        limit = policy.time_limit_s if args.full_limit is None else args.full_limit
        full = timed(demand, candidates, replace(policy, decompose_from=FULL_MODEL, time_limit_s=limit))
    return Row(scenario, size, seed, demand.quantity, engine, baseline, full, os.getloadavg()[0])


def _path(row: Row) -> str:
    """Which model the engine solved: the restricted one computes a Lagrangian bound first."""
    return "restricted" if "bound" in dict(row.mip.timings) else "full"


def report(rows: list[Row]) -> str:
    lines = [
        "| scenario | candidates | seed | demand | model | status | gap | wall s | CPU s | load | MSMEs used (greedy) "
        "| shortfall (greedy) | greedy/MIP cost | MIP saves |",
        "|---|---:|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        mip, base = row.mip, row.baseline
        same = mip.allocated == base.allocated
        ratio = f"{row.advantage:.4f}" if same else "n/a (quantities differ)"
        saving = f"{(1 - 1 / row.advantage) * 100:.2f} %" if same else "—"
        lines.append(
            f"| {row.scenario} | {row.size:,} | {row.seed} | {row.demand:,} | {_path(row)} | {mip.status} "
            f"| {mip.mip_gap * 100:.4f} % | {row.engine.wall:.2f} | {row.engine.cpu:.2f} | {row.load:.1f} "
            f"| {len(mip.allocations)} ({len(base.allocations)}) | {mip.shortfall} ({base.shortfall}) "
            f"| {ratio} | {saving} |"
        )
    lines += ["", "Where the time went (wall seconds; — where a stage did not run):", ""]
    lines.append("| scenario | candidates | seed | " + " | ".join(STAGES) + " | total |")
    lines.append("|---|---:|---:|" + "---:|" * (len(STAGES) + 1))
    for row in rows:
        stages = dict(row.mip.timings)
        cells = " | ".join(f"{stages[s]:.2f}" if s in stages else "—" for s in STAGES)
        lines.append(f"| {row.scenario} | {row.size:,} | {row.seed} | {cells} | {row.engine.wall:.2f} |")
    compared = [row for row in rows if row.full is not None]
    if compared:
        lines += ["", "Against the full model on the same instance:", ""]
        lines.append(
            "| scenario | candidates | seed | engine | engine gap | engine wall s (CPU) | full status | full gap "
            "| full wall s (CPU) | engine/full cost | same quantity |"
        )
        lines.append("|---|---:|---:|---|---:|---:|---|---:|---:|---:|---|")
        for row in compared:
            assert row.full is not None
            full = row.full.proposal
            lines.append(
                f"| {row.scenario} | {row.size:,} | {row.seed} | {_path(row)} | {row.mip.mip_gap * 100:.4f} % "
                f"| {row.engine.wall:.2f} ({row.engine.cpu:.2f}) | {full.status} | {full.mip_gap * 100:.4f} % "
                f"| {row.full.wall:.2f} ({row.full.cpu:.2f}) | {row.mip.objective / full.objective:.7f} "
                f"| {'yes' if full.allocated == row.mip.allocated else 'no'} |"
            )
    groups: dict[tuple[str, int], list[Row]] = {}
    for row in rows:
        groups.setdefault((row.scenario, row.size), []).append(row)
    lines.append("")
    for (scenario, size), group in groups.items():
        times = [r.engine.wall for r in group]
        lines.append(
            f"- {scenario}, {size:,} candidates: solve time median {statistics.median(times):.2f} s, "
            f"max {max(times):.2f} s (CPU max {max(r.engine.cpu for r in group):.2f} s); "
            f"largest gap {max(r.mip.mip_gap for r in group) * 100:.4f} %"
        )
    return "\n".join(lines)


def _numbers(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(","))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="100 and 1,000 candidates, one seed")
    parser.add_argument("--sizes", type=_numbers, help="candidate counts, e.g. 10000,50000,100000")
    parser.add_argument("--seeds", type=_numbers, help="seeds, e.g. 1,2,3")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help="typical, tight or both")
    parser.add_argument("--compare", action="store_true", help="also solve each instance with the full model")
    parser.add_argument("--full-limit", type=float, help="time limit of the full model with --compare (s)")
    parser.add_argument("--decompose-from", type=int, help="offers from which the engine restricts (1: always)")
    args = parser.parse_args()
    sizes = args.sizes or ((100, 1_000) if args.quick else (100, 1_000, 10_000))
    seeds = args.seeds or ((1,) if args.quick else (1, 2, 3))
    print(f"Allocation benchmark: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"load average at the start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    rows = []
    for scenario in args.scenarios.split(","):
        for size in sizes:
            for seed in seeds:
                rows.append(run(scenario, size, seed, args))
                print(f"  done: {scenario}, {size:,} candidates, seed {seed}", file=sys.stderr)
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(report(rows))


if __name__ == "__main__":
    main()
