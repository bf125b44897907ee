"""Where a confirmed order's lines went: one pool each, or unmatched. Pure.

A line joins at most one pool; the stream ``order-demand-<order_id>`` is the guard.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from uuid import UUID

from events.pooling import DemandCancelled, DemandPooled, DemandUnmatched, PoolingEvent
from shared.kernel.decider import Decider
from shared.kernel.errors import Conflict


def order_demand_stream(order_id: UUID) -> str:
    return f"order-demand-{order_id}"


@dataclass(frozen=True)
class OrderDemand:
    order_id: UUID | None = None
    pooled: Mapping[UUID, UUID] = field(default_factory=dict)  # line → pool
    unmatched: frozenset[UUID] = frozenset()
    cancelled: bool = False


@dataclass(frozen=True)
class RecordUnmatched:
    order_id: UUID
    line_id: UUID
    aggregator_org: str
    buyer_org: str
    hs_code: str
    standard_id: UUID
    standard_version: int
    unit: str
    quantity: int
    required_by: date
    confirmed_at: datetime
    reason: str
    at: datetime


@dataclass(frozen=True)
class PoolLine:
    order_id: UUID
    line_id: UUID
    pool_id: UUID
    at: datetime


@dataclass(frozen=True)
class CancelDemand:
    order_id: UUID
    line_ids: tuple[UUID, ...]
    reason: str
    at: datetime


OrderDemandCommand = RecordUnmatched | PoolLine | CancelDemand


def decide(command: OrderDemandCommand, state: OrderDemand) -> Sequence[PoolingEvent]:
    match command:
        case RecordUnmatched():
            if state.cancelled or command.line_id in state.pooled or command.line_id in state.unmatched:
                return []
            return [
                DemandUnmatched(
                    order_id=command.order_id,
                    line_id=command.line_id,
                    aggregator_org=command.aggregator_org,
                    buyer_org=command.buyer_org,
                    hs_code=command.hs_code,
                    standard_id=command.standard_id,
                    standard_version=command.standard_version,
                    unit=command.unit,
                    quantity=command.quantity,
                    required_by=command.required_by,
                    confirmed_at=command.confirmed_at,
                    reason=command.reason,
                    at=command.at,
                )
            ]
        case PoolLine():
            if state.cancelled:
                raise Conflict("the order was cancelled", problem="illegal-transition", state="cancelled")
            current = state.pooled.get(command.line_id)
            if current == command.pool_id:
                return []
            if current is not None:
                raise Conflict(f"the line is already in pool {current}", problem="already-pooled", pool_id=str(current))
            return [
                DemandPooled(order_id=command.order_id, line_id=command.line_id, pool_id=command.pool_id, at=command.at)
            ]
        case CancelDemand():
            if state.cancelled:
                return []
            return [
                DemandCancelled(
                    order_id=command.order_id, line_ids=list(command.line_ids), reason=command.reason, at=command.at
                )
            ]


def evolve(state: OrderDemand, event: PoolingEvent) -> OrderDemand:
    match event:
        case DemandUnmatched():
            return replace(state, order_id=event.order_id, unmatched=state.unmatched | {event.line_id})
        case DemandPooled():
            return replace(
                state,
                order_id=event.order_id,
                pooled={**state.pooled, event.line_id: event.pool_id},
                unmatched=state.unmatched - {event.line_id},
            )
        case DemandCancelled():
            return replace(state, order_id=event.order_id, cancelled=True)
        case _:
            return state


ORDER_DEMAND = Decider[OrderDemandCommand, OrderDemand, PoolingEvent]("order_demand", OrderDemand(), decide, evolve)
