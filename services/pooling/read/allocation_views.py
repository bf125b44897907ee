"""What pooling's routes answer about allocation: proposals, allocation requests and their answers, and
demand no pool matched."""

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
)
from services.pooling.domain.allocation_request import AllocationRequest


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
