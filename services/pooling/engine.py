"""Running the allocation engine for a pool: candidates from pooling's read models, the engine in a thread,
and its answer in event terms. No transaction is open while the engine runs."""

from __future__ import annotations

import asyncio
import dataclasses
import math
from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

import asyncpg
import msgspec
import sqlalchemy as sa

from events.catalog import CertificationScope
from events.common import Money
from events.pooling import AllocationPolicy, CostTerms, MonthQuantity, ProposalExclusion, ProposedSupply
from services.pooling.domain.allocation import Candidate, Demand, Policy, Proposal, Weights, allocate
from services.pooling.domain.candidates import (
    Certificate,
    Offering,
    QualityRecord,
    candidate,
    required_certifications,
)
from services.pooling.domain.pool_commands import ProposalDraft
from services.pooling.domain.pool_state import Pool
from services.pooling.read.tables import capacity, certifications, msmes, product_standards, products, quality_records
from shared import metrics
from shared.eventstore import Connection
from shared.kernel.months import month_of
from shared.sql import fetch

_tiers = msgspec.json.Decoder(list[tuple[int, Decimal]])
_scope = msgspec.json.Decoder(CertificationScope)


def engine_policy(policy: AllocationPolicy) -> Policy:
    return Policy(
        weights=Weights(policy.price_weight, policy.quality_weight, policy.logistics_weight, policy.handling_weight),
        max_share=policy.max_share,
        min_msmes=policy.min_msmes,
        allow_probation=policy.allow_probation,
        probation_max_share=policy.probation_max_share,
        exchange_rates={r.currency: r.rate for r in policy.exchange_rates},
        rejection_penalty_per_unit=policy.rejection_penalty_per_unit,
        logistics_rate_per_unit_km=policy.logistics_rate_per_unit_km,
        handling_cost_per_msme=policy.handling_cost_per_msme,
        time_limit_s=policy.time_limit_s,
        mip_gap=policy.mip_gap,
    )


async def load_candidates(
    db: asyncpg.Pool | Connection, state: Pool, today: date, required_by: date
) -> list[Candidate]:
    """Products made to the pool's spec and standard version, except those of MSMEs the pool set aside."""
    p, m, s = products.c, msmes.c, product_standards.c
    rows = await fetch(
        db,
        sa.select(products, m.name.label("msme_name"), m.city, m.status)
        .join(msmes, m.msme_id == p.msme_id)
        .join(product_standards, s.product_id == p.product_id)
        .where(
            p.hs_code == state.hs_code,
            p.unit == state.unit,
            s.standard_id == state.standard_id,
            s.version == state.standard_version,
        )
        .order_by(p.msme_id, p.product_id),
    )
    rows = [r for r in rows if r["msme_id"] not in state.set_aside]
    if not rows:
        return []
    msme_ids = sorted({r["msme_id"] for r in rows})
    product_ids = [r["product_id"] for r in rows]
    records = {
        r["msme_id"]: QualityRecord(
            r["qualified"], r["disqualified"], r["probation_allowed"], r["severity"], r["discontinued"], r["score"]
        )
        for r in await fetch(
            db,
            sa.select(quality_records).where(
                quality_records.c.msme_id.in_(msme_ids), quality_records.c.standard_id == state.standard_id
            ),
        )
    }
    certificates: dict[Any, list[Certificate]] = defaultdict(list)
    for r in await fetch(db, sa.select(certifications).where(certifications.c.msme_id.in_(msme_ids))):
        scope = None if r["scope"] is None else _scope.decode(r["scope"])
        certificates[r["msme_id"]].append(Certificate(r["kind"], r["valid_from"], r["valid_until"], r["number"], scope))
    available: dict[Any, dict[str, int]] = defaultdict(dict)
    for r in await fetch(
        db, sa.select(capacity).where(capacity.c.product_id.in_(product_ids), capacity.c.month >= month_of(today))
    ):
        available[r["product_id"]][r["month"]] = r["declared"] - r["committed"]
    result: list[Candidate] = []
    for r in rows:
        offering = Offering(
            product_id=r["product_id"],
            msme_id=r["msme_id"],
            msme_name=r["msme_name"],
            city=r["city"],
            suspended=r["status"] == "suspended",
            moq=r["moq"],
            price_tiers=tuple(_tiers.decode(r["price_tiers"])),
            currency=r["currency"],
            lead_time_days=r["lead_time_days"],
            hs_code=r["hs_code"],
        )
        result.append(
            candidate(
                offering,
                records.get(r["msme_id"]),
                certificates.get(r["msme_id"], []),
                available.get(r["product_id"], {}),
                today=today,
                required_by=required_by,
                consolidation_point=state.consolidation_point,
            )
        )
    return result


def draft_of(proposal: Proposal) -> ProposalDraft:
    """The engine's proposal in event terms."""
    allocations = tuple(
        ProposedSupply(
            msme_id=a.msme_id,
            product_id=a.product_id,
            msme_name="",
            quantity=a.quantity,
            unit_price=Money(amount=a.unit_price, currency=a.currency),
            tier_min_quantity=a.tier_min_quantity,
            plan=[MonthQuantity(month=month, quantity=q) for month, q in a.plan_by_month],
            cost=CostTerms(
                price=a.cost.price,
                quality=a.cost.quality,
                logistics=a.cost.logistics,
                handling=a.cost.handling,
                total=a.cost.total,
            ),
            reason=a.reason,
        )
        for a in proposal.allocations
    )
    excluded = tuple(
        ProposalExclusion(
            msme_id=e.msme_id,
            product_id=e.product_id,
            reason=e.reason.value,
            detail=e.detail,
            cost_difference=e.cost_difference,
        )
        for e in proposal.excluded
    )
    return ProposalDraft(
        allocations=allocations,
        excluded=excluded,
        allocated=proposal.allocated,
        shortfall=proposal.shortfall,
        binding_reasons=tuple(r.value for r in proposal.binding_reasons),
        status=proposal.status.value,
        mip_gap=proposal.mip_gap if math.isfinite(proposal.mip_gap) else None,
        objective=proposal.objective,
    )


def _in_pool(candidate: Candidate, state: Pool) -> Candidate:
    """A candidate as this pool sees it: what the MSME holds here counts against its share, and units of
    the product asked for in pending requests are not free again (earliest months first, as accepts book)."""
    supplier = state.suppliers.get(candidate.msme_id)
    held = (supplier.accepted if supplier else 0) + sum(
        p.quantity for p in state.pending.values() if p.msme_id == candidate.msme_id
    )
    asked = sum(p.quantity for p in state.pending.values() if p.product_id == candidate.product_id)
    monthly: list[tuple[str, int]] = []
    for month, units in candidate.monthly_capacity:
        taken = min(units, asked)
        asked -= taken
        if units > taken:
            monthly.append((month, units - taken))
    return dataclasses.replace(candidate, held=held, monthly_capacity=tuple(monthly))


async def run_engine(
    db: asyncpg.Pool | Connection, state: Pool, policy: AllocationPolicy, today: date
) -> tuple[int, ProposalDraft]:
    """Propose how to cover the pool's open demand: (the open quantity it was asked for, its answer)."""
    open_quantity = state.open
    required_by = state.window_end()
    if open_quantity <= 0 or required_by is None:
        raise ValueError("nothing is open in the pool")
    candidates = [_in_pool(c, state) for c in await load_candidates(db, state, today, required_by)]
    names = {c.msme_id: c.msme_name for c in candidates}
    # Share caps are shares of the pool's whole demand, less what each MSME already holds in it.
    required = required_certifications(
        policy.required_certifications, halal_for_food=policy.require_halal_for_food, hs_code=state.hs_code
    )
    demand = Demand(open_quantity, state.currency, required, share_base=state.demand)
    proposal = await asyncio.to_thread(allocate, demand, candidates, engine_policy(policy))
    metrics.allocation_solved(proposal.solve_seconds, proposal.mip_gap)
    draft = draft_of(proposal)
    named = tuple(msgspec.structs.replace(a, msme_name=names.get(a.msme_id, "")) for a in draft.allocations)
    return open_quantity, ProposalDraft(**{**draft.__dict__, "allocations": named})
