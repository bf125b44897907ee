"""The pool decider: demand in, proposals, supply requested and booked. Pure.

Lots and the consignment are decided in ``pool_lots``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from uuid import UUID

from events.pooling import (
    AllocationProposed,
    DemandAdded,
    DemandRemoved,
    LineQuantity,
    PoolingEvent,
    PoolOpened,
    ProposalApproved,
    SupplyBooked,
    SupplyLapsed,
    SupplyReleased,
    SupplyRequested,
)
from services.pooling.domain.lines import Line, spread
from services.pooling.domain.pool_commands import (
    AddDemand,
    Approve,
    Book,
    Lapse,
    OpenPool,
    PassLot,
    PoolCommand,
    Propose,
    ReceiveLot,
    Release,
    RemoveDemand,
    ReturnLot,
    Ship,
)
from services.pooling.domain.pool_lots import pass_lot, receive_lot, return_lot, ship, with_progress
from services.pooling.domain.pool_state import Pool, evolve
from services.pooling.domain.request_plan import taken
from shared.kernel.decider import Decider
from shared.kernel.errors import Conflict, NotFound


def pool_stream(pool_id: UUID) -> str:
    return f"pool-{pool_id}"


def over_allocation(state: Pool, asked: int, detail: str) -> Conflict:
    return Conflict(
        detail,
        problem="over-allocation",
        demand=state.demand,
        accepted=state.accepted,
        requested=state.requested,
        asked=asked,
    )


def decide(command: PoolCommand, state: Pool) -> Sequence[PoolingEvent]:
    if isinstance(command, OpenPool):
        return _open(command, state)
    if state.pool_id is None:
        raise NotFound("no such pool")
    pool_id = state.pool_id
    if state.status == "shipped" and not isinstance(command, Lapse | PassLot | ReturnLot | RemoveDemand):
        raise Conflict("the pool has shipped", problem="illegal-transition", state="shipped")
    match command:
        case AddDemand():
            return _add_demand(command, state, pool_id)
        case RemoveDemand():
            return _remove_demand(command, state, pool_id)
        case Propose():
            return _propose(command, state, pool_id)
        case Approve():
            return _approve(command, state, pool_id)
        case Book():
            return _book(command, state, pool_id)
        case Lapse():
            return _lapse(command, state, pool_id)
        case Release():
            return _release(command, state, pool_id)
        case ReceiveLot():
            return receive_lot(command, state, pool_id)
        case PassLot():
            return pass_lot(command, state, pool_id)
        case ReturnLot():
            return return_lot(command, state, pool_id)
        case Ship():
            return ship(command, state, pool_id)


def _open(command: OpenPool, state: Pool) -> Sequence[PoolingEvent]:
    if state.exists:
        raise Conflict("the pool is already open", problem="illegal-transition")
    return [
        PoolOpened(
            pool_id=command.pool_id,
            aggregator_org=command.aggregator_org,
            name=command.name,
            hs_code=command.hs_code,
            standard_id=command.standard_id,
            standard_version=command.standard_version,
            unit=command.unit,
            currency=command.currency,
            consolidation_point=command.consolidation_point,
            required_by=command.required_by,
            opened_by=command.by,
            at=command.at,
            inspector_orgs=tuple(sorted(set(command.inspector_orgs))),
        )
    ]


def _add_demand(command: AddDemand, state: Pool, pool_id: UUID) -> Sequence[PoolingEvent]:
    if command.line_id in state.lines:
        return []
    if command.aggregator_org != state.aggregator_org:
        raise NotFound("no such order line for this aggregator")
    spec = (command.hs_code, command.standard_id, command.standard_version, command.unit)
    if spec != (state.hs_code, state.standard_id, state.standard_version, state.unit):
        raise Conflict(
            f"the line is {command.hs_code} to standard version {command.standard_version} in {command.unit}; "
            f"the pool is {state.hs_code} to version {state.standard_version} in {state.unit}",
            problem="demand-mismatch",
        )
    added = DemandAdded(
        pool_id=pool_id,
        aggregator_org=state.aggregator_org,
        order_id=command.order_id,
        line_id=command.line_id,
        buyer_org=command.buyer_org,
        quantity=command.quantity,
        required_by=command.required_by,
        confirmed_at=command.confirmed_at,
        lines=[LineQuantity(order_id=command.order_id, line_id=command.line_id, quantity=command.quantity)],
        progress=[],
        added_by=command.by,
        at=command.at,
    )
    return [with_progress(state, added)]


def _remove_demand(command: RemoveDemand, state: Pool, pool_id: UUID) -> Sequence[PoolingEvent]:
    line = state.lines.get(command.line_id)
    if line is None:
        return []
    removed = DemandRemoved(
        pool_id=pool_id,
        aggregator_org=state.aggregator_org,
        order_id=line.order_id,
        line_id=line.line_id,
        quantity=line.quantity,
        reason=command.reason,
        lines=[LineQuantity(order_id=line.order_id, line_id=line.line_id, quantity=line.quantity)],
        progress=[],
        at=command.at,
    )
    return [with_progress(state, removed)]


def _propose(command: Propose, state: Pool, pool_id: UUID) -> Sequence[PoolingEvent]:
    if command.open_quantity != state.open:
        raise Conflict(
            f"the pool changed while the engine ran ({state.open} open, not {command.open_quantity}); run it again",
            problem="stale-proposal",
        )
    draft = command.draft
    return [
        AllocationProposed(
            pool_id=pool_id,
            aggregator_org=state.aggregator_org,
            proposal_id=command.proposal_id,
            open_quantity=command.open_quantity,
            allocations=list(draft.allocations),
            excluded=list(draft.excluded),
            set_aside=sorted(state.set_aside.values(), key=lambda s: s.msme_id),
            allocated=draft.allocated,
            shortfall=draft.shortfall,
            binding_reasons=list(draft.binding_reasons),
            status=draft.status,
            mip_gap=draft.mip_gap,
            objective=draft.objective,
            policy=command.policy,
            trigger=command.trigger,
            proposed_by=command.by,
            at=command.at,
        )
    ]


def _approve(command: Approve, state: Pool, pool_id: UUID) -> Sequence[PoolingEvent]:
    """Send a proposal's requests. Approving a second proposal while the first's requests are pending asks
    for more than is open (an aggregator hedging against declines); accepts never over-fill the pool."""
    proposal = state.proposals.get(command.proposal_id)
    if proposal is None:
        raise NotFound(f"the pool has no proposal {command.proposal_id}")
    if proposal.approved:
        raise Conflict("the proposal was already approved", problem="illegal-transition", state="approved")
    if not proposal.allocations:
        raise Conflict("the proposal allocates nothing", problem="empty-proposal")
    if len(command.request_ids) != len(proposal.allocations):
        raise ValueError("one request id per proposed allocation")
    asked = sum(a.quantity for a in proposal.allocations)
    unbooked = state.demand - state.accepted
    if asked > unbooked:
        raise over_allocation(state, asked, f"the proposal asks for {asked} but only {unbooked} is not yet accepted")
    events: list[PoolingEvent] = [
        ProposalApproved(
            pool_id=pool_id,
            proposal_id=command.proposal_id,
            request_ids=list(command.request_ids),
            approved_by=command.by,
            at=command.at,
        )
    ]
    current = state
    for request_id, allocation in zip(command.request_ids, proposal.allocations, strict=True):
        lines = spread(current.lines.values(), allocation.quantity, _unclaimed(current))
        requested = SupplyRequested(
            pool_id=pool_id,
            request_id=request_id,
            msme_id=allocation.msme_id,
            product_id=allocation.product_id,
            quantity=allocation.quantity,
            lines=lines,
            expires_at=command.expires_at,
            at=command.at,
        )
        events.append(requested)
        current = evolve(current, requested)
    return events


def _unclaimed(state: Pool) -> Callable[[Line], int]:
    """A line's demand neither accepted nor asked for in a pending request."""
    return lambda line: line.quantity - line.accepted - state.requested_on(line.line_id)


def _book(command: Book, state: Pool, pool_id: UUID) -> Sequence[PoolingEvent]:
    pending = state.pending.get(command.request_id)
    if pending is None:
        raise Conflict("the pool has no open request by that id", problem="illegal-transition")
    taken(command.quantity, pending.quantity)
    if state.accepted + command.quantity > state.demand:
        room = max(state.demand - state.accepted, 0)
        raise over_allocation(
            state, command.quantity, f"the pool needs only {room} more; accepting {command.quantity} would over-fill it"
        )
    booked = SupplyBooked(
        pool_id=pool_id,
        request_id=command.request_id,
        msme_id=pending.msme_id,
        product_id=pending.product_id,
        requested=pending.quantity,
        quantity=command.quantity,
        shortfall=pending.quantity - command.quantity,
        lines=spread(state.lines.values(), command.quantity, lambda line: line.quantity - line.accepted),
        progress=[],
        at=command.at,
    )
    return [with_progress(state, booked)]


def _lapse(command: Lapse, state: Pool, pool_id: UUID) -> Sequence[PoolingEvent]:
    pending = state.pending.get(command.request_id)
    if pending is None:
        return []
    return [
        SupplyLapsed(
            pool_id=pool_id,
            request_id=command.request_id,
            msme_id=pending.msme_id,
            product_id=pending.product_id,
            quantity=pending.quantity,
            outcome=command.outcome,
            reason=command.reason,
            lines=list(pending.lines),
            at=command.at,
        )
    ]


def _release(command: Release, state: Pool, pool_id: UUID) -> Sequence[PoolingEvent]:
    """Give back booked units the MSME has not delivered yet (no more than asked)."""
    booking = state.bookings.get(command.request_id)
    if booking is None:
        return []
    quantity = min(command.quantity, booking.quantity, state.supplier(booking.msme_id).outstanding)
    if quantity <= 0:
        return []
    released = SupplyReleased(
        pool_id=pool_id,
        request_id=command.request_id,
        msme_id=booking.msme_id,
        product_id=booking.product_id,
        quantity=quantity,
        reason=command.reason,
        lines=spread(state.lines.values(), quantity, lambda line: line.accepted - line.delivered, latest_first=True),
        progress=[],
        at=command.at,
    )
    return [with_progress(state, released)]


POOL = Decider[PoolCommand, Pool, PoolingEvent]("pool", Pool(), decide, evolve)

__all__ = ["POOL", "over_allocation", "pool_stream"]
