"""The allocation request decider: one request to one MSME, from sent to accepted, declined or expired. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal
from uuid import UUID

from events.common import Money
from events.pooling import (
    AllocationAccepted,
    AllocationDeclined,
    AllocationExpired,
    AllocationReleased,
    AllocationRequested,
    AllocationWithdrawn,
    LineQuantity,
    MonthQuantity,
    PoolingEvent,
)
from services.pooling.domain.request_plan import earliest, remaining_after, split_release, taken
from shared.kernel.decider import Decider
from shared.kernel.errors import Conflict, NotFound

RequestStatus = Literal["pending", "accepted", "declined", "expired", "withdrawn"]


def request_stream(request_id: UUID) -> str:
    return f"allocation-request-{request_id}"


@dataclass(frozen=True)
class AllocationRequest:
    request_id: UUID | None = None
    pool_id: UUID | None = None
    aggregator_org: str = ""
    msme_id: UUID | None = None
    product_id: UUID | None = None
    quantity: int = 0
    plan: tuple[MonthQuantity, ...] = ()
    lines: tuple[LineQuantity, ...] = ()
    expires_at: datetime | None = None
    status: RequestStatus = "pending"
    accepted_plan: tuple[MonthQuantity, ...] = ()  # what the MSME still makes, net of releases

    @property
    def accepted(self) -> int:
        return sum(m.quantity for m in self.accepted_plan)


@dataclass(frozen=True)
class RequestAllocation:
    request_id: UUID
    pool_id: UUID
    aggregator_org: str
    proposal_id: UUID
    msme_id: UUID
    product_id: UUID
    hs_code: str
    standard_id: UUID
    standard_version: int
    unit: str
    plan: tuple[MonthQuantity, ...]
    unit_price: Money
    lines: tuple[LineQuantity, ...]
    expires_at: datetime
    reason: str
    at: datetime


@dataclass(frozen=True)
class AcceptAllocation:
    quantity: int
    lines: tuple[LineQuantity, ...]
    by: str
    at: datetime


@dataclass(frozen=True)
class DeclineAllocation:
    reason: str
    by: str
    at: datetime


@dataclass(frozen=True)
class ExpireAllocation:
    """Fired by the scheduler; does nothing to a request already answered or not yet due."""

    at: datetime


@dataclass(frozen=True)
class WithdrawAllocation:
    reason: str
    at: datetime


@dataclass(frozen=True)
class ReleaseAllocation:
    """Give back accepted units: from ``month`` only, or from the latest months first."""

    quantity: int
    month: str | None
    reason: str
    lines: tuple[LineQuantity, ...]
    at: datetime


RequestCommand = (
    RequestAllocation | AcceptAllocation | DeclineAllocation | ExpireAllocation | WithdrawAllocation | ReleaseAllocation
)


def check_answerable(state: AllocationRequest, at: datetime) -> None:
    """An MSME can answer only a pending request that has not expired."""
    if state.request_id is None:
        raise NotFound("no such allocation request")
    if state.status != "pending":
        raise Conflict(f"the request is already {state.status}", problem="illegal-transition", state=state.status)
    assert state.expires_at is not None
    if at >= state.expires_at:
        raise Conflict("the request has expired", problem="request-expired", expires_at=state.expires_at.isoformat())


def decide(command: RequestCommand, state: AllocationRequest) -> Sequence[PoolingEvent]:
    if isinstance(command, RequestAllocation):
        if state.request_id is not None:
            raise Conflict("the request was already sent", problem="illegal-transition")
        return [_requested(command)]
    if state.request_id is None:
        raise NotFound("no such allocation request")
    assert state.pool_id and state.msme_id and state.product_id and state.expires_at
    ids = {"request_id": state.request_id, "pool_id": state.pool_id, "msme_id": state.msme_id}
    match command:
        case AcceptAllocation():
            check_answerable(state, command.at)
            taken(command.quantity, state.quantity)
            return [
                AllocationAccepted(
                    **ids,
                    product_id=state.product_id,
                    requested=state.quantity,
                    quantity=command.quantity,
                    shortfall=state.quantity - command.quantity,
                    plan=list(earliest(state.plan, command.quantity)),
                    lines=list(command.lines),
                    accepted_by=command.by,
                    at=command.at,
                )
            ]
        case DeclineAllocation():
            check_answerable(state, command.at)
            return [
                AllocationDeclined(
                    **ids,
                    product_id=state.product_id,
                    quantity=state.quantity,
                    reason=command.reason,
                    lines=list(state.lines),
                    declined_by=command.by,
                    at=command.at,
                )
            ]
        case ExpireAllocation():
            if state.status != "pending" or command.at < state.expires_at:
                return []
            return [
                AllocationExpired(
                    **ids,
                    product_id=state.product_id,
                    quantity=state.quantity,
                    expires_at=state.expires_at,
                    lines=list(state.lines),
                    at=command.at,
                )
            ]
        case WithdrawAllocation():
            if state.status != "pending":
                return []
            return [
                AllocationWithdrawn(
                    **ids,
                    product_id=state.product_id,
                    quantity=state.quantity,
                    reason=command.reason,
                    lines=list(state.lines),
                    at=command.at,
                )
            ]
        case ReleaseAllocation():
            if state.status != "accepted":
                return []
            released, kept = split_release(state.accepted_plan, command.quantity, command.month)
            quantity = sum(m.quantity for m in released)
            if not quantity:
                return []
            return [
                AllocationReleased(
                    **ids,
                    product_id=state.product_id,
                    quantity=quantity,
                    remaining=sum(m.quantity for m in kept),
                    released_plan=list(released),
                    reason=command.reason,
                    lines=list(command.lines),
                    at=command.at,
                )
            ]


def _requested(command: RequestAllocation) -> AllocationRequested:
    return AllocationRequested(
        request_id=command.request_id,
        pool_id=command.pool_id,
        aggregator_org=command.aggregator_org,
        proposal_id=command.proposal_id,
        msme_id=command.msme_id,
        product_id=command.product_id,
        hs_code=command.hs_code,
        standard_id=command.standard_id,
        standard_version=command.standard_version,
        unit=command.unit,
        quantity=sum(m.quantity for m in command.plan),
        plan=list(command.plan),
        unit_price=command.unit_price,
        lines=list(command.lines),
        expires_at=command.expires_at,
        reason=command.reason,
        at=command.at,
    )


def evolve(state: AllocationRequest, event: PoolingEvent) -> AllocationRequest:
    match event:
        case AllocationRequested():
            return AllocationRequest(
                request_id=event.request_id,
                pool_id=event.pool_id,
                aggregator_org=event.aggregator_org,
                msme_id=event.msme_id,
                product_id=event.product_id,
                quantity=event.quantity,
                plan=tuple(event.plan),
                lines=tuple(event.lines),
                expires_at=event.expires_at,
            )
        case AllocationAccepted():
            return replace(state, status="accepted", accepted_plan=tuple(event.plan))
        case AllocationDeclined():
            return replace(state, status="declined")
        case AllocationExpired():
            return replace(state, status="expired")
        case AllocationWithdrawn():
            return replace(state, status="withdrawn")
        case AllocationReleased():
            return replace(state, accepted_plan=remaining_after(state.accepted_plan, event.released_plan))
        case _:
            return state


REQUEST = Decider[RequestCommand, AllocationRequest, PoolingEvent](
    "allocation_request", AllocationRequest(), decide, evolve
)
