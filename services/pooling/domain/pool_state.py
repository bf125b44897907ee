"""A pool's state, folded from its stream: demand by order line, supply by MSME, proposals and lots."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Literal, TypeVar
from uuid import UUID

from events.pooling import (
    AllocationPolicy,
    AllocationProposed,
    ConsignmentShipped,
    DemandAdded,
    DemandRemoved,
    LineQuantity,
    LotPassed,
    LotReceived,
    LotReturned,
    PoolFilled,
    PoolingEvent,
    PoolOpened,
    ProposalApproved,
    ProposedSupply,
    SetAside,
    SetAsideReason,
    SupplyBooked,
    SupplyLapsed,
    SupplyReleased,
    SupplyRequested,
)
from services.pooling.domain.lines import Line, apply, rehome

LotStatus = Literal["received", "passed", "returned"]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PendingRequest:
    request_id: UUID
    msme_id: UUID
    product_id: UUID
    quantity: int
    lines: tuple[LineQuantity, ...]


@dataclass(frozen=True, slots=True)
class Booking:
    """What one accepted request still books into the pool."""

    request_id: UUID
    msme_id: UUID
    product_id: UUID
    quantity: int


@dataclass(frozen=True, slots=True)
class Supplier:
    """One MSME's totals in the pool; ``accepted`` is net of releases and returned lots."""

    msme_id: UUID
    requested: int = 0
    accepted: int = 0
    delivered: int = 0
    passed: int = 0
    returned: int = 0
    shipped: int = 0

    @property
    def outstanding(self) -> int:
        """Accepted units the MSME has not delivered yet."""
        return self.accepted - (self.delivered - self.returned)


@dataclass(frozen=True, slots=True)
class Lot:
    lot_id: UUID
    msme_id: UUID
    product_id: UUID
    quantity: int
    lot_code: str
    lines: tuple[LineQuantity, ...]
    status: LotStatus = "received"
    shipped: bool = False
    plot_ids: tuple[UUID, ...] = ()


@dataclass(frozen=True, slots=True)
class StoredProposal:
    proposal_id: UUID
    allocations: tuple[ProposedSupply, ...]
    policy: AllocationPolicy
    approved: bool = False


@dataclass(frozen=True)
class Pool:
    pool_id: UUID | None = None
    aggregator_org: str = ""
    hs_code: str = ""
    standard_id: UUID | None = None
    standard_version: int = 0
    unit: str = ""
    currency: str = ""
    consolidation_point: str = ""
    required_by: date | None = None
    lines: Mapping[UUID, Line] = field(default_factory=dict)
    pending: Mapping[UUID, PendingRequest] = field(default_factory=dict)
    bookings: Mapping[UUID, Booking] = field(default_factory=dict)
    suppliers: Mapping[UUID, Supplier] = field(default_factory=dict)
    lots: Mapping[UUID, Lot] = field(default_factory=dict)
    proposals: Mapping[UUID, StoredProposal] = field(default_factory=dict)
    set_aside: Mapping[UUID, SetAside] = field(default_factory=dict)
    policy: AllocationPolicy | None = None
    filled: bool = False
    inspector_orgs: tuple[str, ...] = ()

    def trusts_inspector(self, org: str | None) -> bool:
        """Does a verdict by inspectors of ``org`` count for this pool's lots?"""
        return org is None or not self.inspector_orgs or org in (self.aggregator_org, *self.inspector_orgs)

    @property
    def exists(self) -> bool:
        return self.pool_id is not None

    @property
    def demand(self) -> int:
        return sum(line.quantity for line in self.lines.values())

    @property
    def requested(self) -> int:
        return sum(p.quantity for p in self.pending.values())

    @property
    def accepted(self) -> int:
        return sum(s.accepted for s in self.suppliers.values())

    @property
    def delivered(self) -> int:
        return sum(s.delivered - s.returned for s in self.suppliers.values())

    @property
    def passed(self) -> int:
        return sum(s.passed for s in self.suppliers.values())

    @property
    def returned(self) -> int:
        return sum(s.returned for s in self.suppliers.values())

    @property
    def shipped(self) -> int:
        return sum(s.shipped for s in self.suppliers.values())

    @property
    def open(self) -> int:
        """Demand neither accepted nor asked for in a pending request."""
        return self.demand - self.accepted - self.requested

    @property
    def status(self) -> str:
        if self.demand and self.shipped >= self.demand:
            return "shipped"
        return "filled" if self.filled else "open"

    def requested_on(self, line_id: UUID) -> int:
        return sum(q.quantity for p in self.pending.values() for q in p.lines if q.line_id == line_id)

    def supplier(self, msme_id: UUID) -> Supplier:
        return self.suppliers.get(msme_id) or Supplier(msme_id)

    def window_end(self) -> date | None:
        """The required-by that bounds an allocation: the earliest line still short of supply, or the pool's own."""
        short = [
            line.required_by
            for line in self.lines.values()
            if line.accepted + self.requested_on(line.line_id) < line.quantity
        ]
        dates = [d for d in (min(short, default=None), self.required_by) if d is not None]
        return min(dates, default=None)


def _supplier(state: Pool, msme_id: UUID, **changes: int) -> dict[UUID, Supplier]:
    current = state.supplier(msme_id)
    updated = replace(current, **{k: getattr(current, k) + v for k, v in changes.items()})
    return {**state.suppliers, msme_id: updated}


def _without(mapping: Mapping[UUID, T], key: UUID) -> dict[UUID, T]:
    return {k: v for k, v in mapping.items() if k != key}


def _set_aside(state: Pool, msme_id: UUID, reason: SetAsideReason, detail: str) -> dict[UUID, SetAside]:
    return {**state.set_aside, msme_id: SetAside(msme_id=msme_id, reason=reason, detail=detail)}


def evolve(state: Pool, event: PoolingEvent) -> Pool:
    match event:
        case PoolOpened():
            return Pool(
                pool_id=event.pool_id,
                aggregator_org=event.aggregator_org,
                hs_code=event.hs_code,
                standard_id=event.standard_id,
                standard_version=event.standard_version,
                unit=event.unit,
                currency=event.currency,
                consolidation_point=event.consolidation_point,
                required_by=event.required_by,
                inspector_orgs=event.inspector_orgs,
            )
        case DemandAdded():
            line = Line(
                event.order_id, event.line_id, event.buyer_org, event.quantity, event.required_by, event.confirmed_at
            )
            return replace(state, lines={**state.lines, line.line_id: line}, filled=False)
        case DemandRemoved():
            removed = state.lines.get(event.line_id)
            return state if removed is None else replace(state, lines=rehome(state.lines, removed))
        case AllocationProposed():
            proposal = StoredProposal(event.proposal_id, tuple(event.allocations), event.policy)
            return replace(state, proposals={**state.proposals, event.proposal_id: proposal}, policy=event.policy)
        case ProposalApproved():
            approved = replace(state.proposals[event.proposal_id], approved=True)
            return replace(state, proposals={**state.proposals, event.proposal_id: approved})
        case SupplyRequested():
            pending = PendingRequest(
                event.request_id, event.msme_id, event.product_id, event.quantity, tuple(event.lines)
            )
            return replace(
                state,
                pending={**state.pending, event.request_id: pending},
                suppliers=_supplier(state, event.msme_id, requested=event.quantity),
            )
        case SupplyBooked():
            asked = state.pending[event.request_id].quantity
            booking = Booking(event.request_id, event.msme_id, event.product_id, event.quantity)
            set_aside = state.set_aside
            if event.shortfall:
                detail = f"accepted {event.quantity} of {event.requested}"
                set_aside = _set_aside(state, event.msme_id, "partial", detail)
            return replace(
                state,
                set_aside=set_aside,
                pending=_without(state.pending, event.request_id),
                bookings={**state.bookings, event.request_id: booking},
                suppliers=_supplier(state, event.msme_id, requested=-asked, accepted=event.quantity),
                lines=apply(state.lines, event.lines, "accepted", 1),
            )
        case SupplyLapsed():
            set_aside = state.set_aside
            if event.outcome != "withdrawn":
                set_aside = _set_aside(state, event.msme_id, event.outcome, event.reason)
            return replace(
                state,
                set_aside=set_aside,
                pending=_without(state.pending, event.request_id),
                suppliers=_supplier(state, event.msme_id, requested=-event.quantity),
            )
        case SupplyReleased():
            booking = state.bookings[event.request_id]
            bookings = {
                **state.bookings,
                event.request_id: replace(booking, quantity=booking.quantity - event.quantity),
            }
            set_aside = state.set_aside
            if event.reason == "capacity_lowered":
                set_aside = _set_aside(
                    state, event.msme_id, "capacity_lowered", "lowered its capacity below its bookings"
                )
            return replace(
                state,
                set_aside=set_aside,
                bookings=bookings,
                suppliers=_supplier(state, event.msme_id, accepted=-event.quantity),
                lines=apply(state.lines, event.lines, "accepted", -1),
            )
        case LotReceived():
            lot = Lot(
                event.lot_id, event.msme_id, event.product_id, event.quantity, event.lot_code, tuple(event.lines),
                plot_ids=tuple(event.plot_ids),
            )  # fmt: skip
            return replace(
                state,
                lots={**state.lots, lot.lot_id: lot},
                suppliers=_supplier(state, event.msme_id, delivered=event.quantity),
                lines=apply(state.lines, event.lines, "delivered", 1),
            )
        case LotPassed():
            lot = replace(state.lots[event.lot_id], status="passed")
            return replace(
                state,
                lots={**state.lots, lot.lot_id: lot},
                suppliers=_supplier(state, event.msme_id, passed=event.quantity),
                lines=apply(state.lines, event.lines, "passed", 1),
            )
        case LotReturned():
            lot = replace(state.lots[event.lot_id], status="returned")
            lines = apply(apply(state.lines, event.lines, "delivered", -1), event.lines, "accepted", -1)
            return replace(
                state,
                lots={**state.lots, lot.lot_id: lot},
                set_aside=_set_aside(state, event.msme_id, "lot_rejected", f"lot {lot.lot_code}: {event.reason}"),
                suppliers=_supplier(state, event.msme_id, returned=event.quantity, accepted=-event.quantity),
                lines=lines,
            )
        case PoolFilled():
            return replace(state, filled=True)
        case ConsignmentShipped():
            lots = dict(state.lots)
            suppliers = dict(state.suppliers)
            for shipped in event.lots:
                lots[shipped.lot_id] = replace(lots[shipped.lot_id], shipped=True)
                current = suppliers.get(shipped.msme_id) or Supplier(shipped.msme_id)
                suppliers[shipped.msme_id] = replace(current, shipped=current.shipped + shipped.quantity)
            return replace(state, lots=lots, suppliers=suppliers, lines=apply(state.lines, event.lines, "shipped", 1))
        case _:
            return state
