"""What pooling's routes answer: pools, proposals, allocation requests, lots and unmatched demand."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec

from events.common import Money
from events.pooling import (
    AllocationPolicy,
    AllocationProposed,
    MonthQuantity,
    ProposalExclusion,
    ProposedSupply,
    SetAside,
    ShippedLot,
)
from services.pooling.domain.allocation_request import AllocationRequest
from services.pooling.domain.lines import priority
from services.pooling.domain.pool_state import Pool


class LineView(msgspec.Struct, frozen=True, kw_only=True):
    order_id: UUID
    line_id: UUID
    buyer_org: str
    required_by: date
    demand: int
    accepted: int
    delivered: int
    passed: int
    shipped: int


class SupplierView(msgspec.Struct, frozen=True, kw_only=True):
    """One MSME's quantities in the pool; ``outstanding`` is accepted and not yet delivered."""

    msme_id: UUID
    requested: int
    accepted: int
    delivered: int
    passed: int
    returned: int
    shipped: int
    outstanding: int


class LotView(msgspec.Struct, frozen=True, kw_only=True):
    lot_id: UUID
    msme_id: UUID
    product_id: UUID
    lot_code: str
    quantity: int
    status: str
    shipped: bool


class PoolView(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    aggregator_org: str
    hs_code: str
    standard_id: UUID
    standard_version: int
    unit: str
    currency: str
    consolidation_point: str
    required_by: date | None
    inspector_orgs: list[str]
    status: str
    demand: int
    open: int
    requested: int
    accepted: int
    delivered: int
    passed: int
    returned: int
    shipped: int
    lines: list[LineView]
    msmes: list[SupplierView]
    lots: list[LotView]
    set_aside: list[SetAside]
    version: int
    position: int = 0


def pool_view(state: Pool, version: int, position: int = 0) -> PoolView:
    assert state.pool_id is not None and state.standard_id is not None
    lines = [
        LineView(
            order_id=line.order_id,
            line_id=line.line_id,
            buyer_org=line.buyer_org,
            required_by=line.required_by,
            demand=line.quantity,
            accepted=line.accepted,
            delivered=line.delivered,
            passed=line.passed,
            shipped=line.shipped,
        )
        for line in sorted(state.lines.values(), key=priority)
    ]
    suppliers = [
        SupplierView(
            msme_id=s.msme_id,
            requested=s.requested,
            accepted=s.accepted,
            delivered=s.delivered,
            passed=s.passed,
            returned=s.returned,
            shipped=s.shipped,
            outstanding=s.outstanding,
        )
        for s in sorted(state.suppliers.values(), key=lambda s: s.msme_id)
    ]
    lots = [
        LotView(
            lot_id=lot.lot_id,
            msme_id=lot.msme_id,
            product_id=lot.product_id,
            lot_code=lot.lot_code,
            quantity=lot.quantity,
            status=lot.status,
            shipped=lot.shipped,
        )
        for lot in state.lots.values()
    ]
    return PoolView(
        id=state.pool_id,
        aggregator_org=state.aggregator_org,
        hs_code=state.hs_code,
        standard_id=state.standard_id,
        standard_version=state.standard_version,
        unit=state.unit,
        currency=state.currency,
        consolidation_point=state.consolidation_point,
        required_by=state.required_by,
        inspector_orgs=list(state.inspector_orgs),
        status=state.status,
        demand=state.demand,
        open=state.open,
        requested=state.requested,
        accepted=state.accepted,
        delivered=state.delivered,
        passed=state.passed,
        returned=state.returned,
        shipped=state.shipped,
        lines=lines,
        msmes=suppliers,
        lots=lots,
        set_aside=sorted(state.set_aside.values(), key=lambda s: s.msme_id),
        version=version,
        position=position,
    )


class PoolSummary(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    name: str
    hs_code: str
    standard_id: UUID
    standard_version: int
    unit: str
    consolidation_point: str
    status: str
    demand: int
    accepted: int
    passed: int
    shipped: int
    version: int


class ProposalView(msgspec.Struct, frozen=True, kw_only=True):
    """The engine's proposal: who makes how many and why, who was left out and why, and what it could not cover."""

    id: UUID
    pool_id: UUID
    status: str
    open_quantity: int
    allocated: int
    shortfall: int
    binding_reasons: list[str]
    allocations: list[ProposedSupply]
    excluded: list[ProposalExclusion]
    set_aside: list[SetAside]
    solver_status: str
    mip_gap: float | None
    objective: Decimal
    policy: AllocationPolicy
    trigger: str
    request_ids: list[UUID]
    proposed_at: datetime
    version: int = 0
    position: int = 0


def proposal_view(
    event: AllocationProposed, request_ids: list[UUID], version: int = 0, position: int = 0
) -> ProposalView:
    return ProposalView(
        id=event.proposal_id,
        pool_id=event.pool_id,
        status="approved" if request_ids else "proposed",
        open_quantity=event.open_quantity,
        allocated=event.allocated,
        shortfall=event.shortfall,
        binding_reasons=event.binding_reasons,
        allocations=event.allocations,
        excluded=event.excluded,
        set_aside=event.set_aside,
        solver_status=event.status,
        mip_gap=event.mip_gap,
        objective=event.objective,
        policy=event.policy,
        trigger=event.trigger,
        request_ids=request_ids,
        proposed_at=event.at,
        version=version,
        position=position,
    )


class RequestView(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    pool_id: UUID
    aggregator_org: str
    msme_id: UUID
    product_id: UUID
    hs_code: str
    unit: str
    quantity: int
    plan: list[MonthQuantity]
    unit_price: Money
    status: str
    reason: str
    accepted: int
    accepted_plan: list[MonthQuantity]
    answer: str | None
    expires_at: datetime
    requested_at: datetime
    answered_at: datetime | None
    version: int
    position: int = 0


_plan = msgspec.json.Decoder(list[MonthQuantity])
_money = msgspec.json.Decoder(Money)


def request_view(row: Any) -> RequestView:
    return RequestView(
        id=row["request_id"],
        pool_id=row["pool_id"],
        aggregator_org=row["aggregator_org"],
        msme_id=row["msme_id"],
        product_id=row["product_id"],
        hs_code=row["hs_code"],
        unit=row["unit"],
        quantity=row["quantity"],
        plan=_plan.decode(row["plan"]),
        unit_price=_money.decode(row["unit_price"]),
        status=row["status"],
        reason=row["reason"],
        accepted=row["accepted"],
        accepted_plan=_plan.decode(row["accepted_plan"]),
        answer=row["answer"],
        expires_at=row["expires_at"],
        requested_at=row["requested_at"],
        answered_at=row["answered_at"],
        version=row["version"],
    )


class AnswerView(msgspec.Struct, frozen=True, kw_only=True):
    """An allocation request just accepted or declined."""

    id: UUID
    status: str
    quantity: int
    accepted: int
    accepted_plan: list[MonthQuantity]
    version: int
    position: int


def answer_view(state: AllocationRequest, request_id: UUID, version: int, position: int) -> AnswerView:
    return AnswerView(
        id=request_id,
        status=state.status,
        quantity=state.quantity,
        accepted=state.accepted,
        accepted_plan=list(state.accepted_plan),
        version=version,
        position=position,
    )


class ConsignmentView(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    pool_id: UUID
    quantity: int
    partial: bool
    lots: list[ShippedLot]
    pool: PoolView


class UnmatchedView(msgspec.Struct, frozen=True, kw_only=True):
    order_id: UUID
    line_id: UUID
    buyer_org: str
    hs_code: str
    standard_id: UUID
    standard_version: int
    unit: str
    quantity: int
    required_by: date
    reason: str
    recorded_at: datetime
