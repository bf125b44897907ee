"""The pool's lots and consignment: received, passed or returned by quality, shipped. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar
from uuid import UUID

import msgspec

from events.pooling import (
    ConsignmentShipped,
    LineQuantity,
    LotPassed,
    LotReceived,
    LotReturned,
    PoolFilled,
    PoolingEvent,
    ShippedLot,
)
from services.pooling.domain.lines import progress_of, spread
from services.pooling.domain.pool_commands import PassLot, ReceiveLot, ReturnLot, Ship
from services.pooling.domain.pool_state import Pool, evolve
from shared.kernel.errors import Conflict, FieldError, InvalidInput
from shared.kernel.eudr import annex_i

E = TypeVar("E", bound=PoolingEvent)


def with_progress(state: Pool, event: E) -> E:
    """The event with ``progress``: the totals, after it, of every line it changes."""
    after = evolve(state, event)
    named = {q.line_id for q in getattr(event, "lines", [])}
    changed = {key for key, line in after.lines.items() if state.lines.get(key) != line}
    updated: E = msgspec.structs.replace(event, progress=progress_of(after.lines, named | changed))
    return updated


def receive_lot(command: ReceiveLot, state: Pool, pool_id: UUID) -> Sequence[PoolingEvent]:
    if any(lot.lot_code == command.lot_code for lot in state.lots.values()):
        raise Conflict(f"the pool already has a lot {command.lot_code}", problem="duplicate-lot")
    supplier = state.supplier(command.msme_id)
    products = sorted({b.product_id for b in state.bookings.values() if b.msme_id == command.msme_id and b.quantity})
    if not products:
        raise Conflict("the MSME has no accepted allocation in this pool", problem="over-delivery", outstanding=0)
    product_id = command.product_id
    if product_id is None:
        if len(products) > 1:
            raise InvalidInput.of("product_id", "is required: the MSME supplies several products to this pool")
        product_id = products[0]
    elif product_id not in products:
        raise InvalidInput.of("product_id", "is not a product the MSME supplies to this pool")
    if command.quantity > supplier.outstanding:
        raise Conflict(
            f"the MSME has {supplier.outstanding} accepted units still to deliver, not {command.quantity}",
            problem="over-delivery",
            outstanding=supplier.outstanding,
        )
    assert state.standard_id is not None
    plot_ids = lot_plots(command, state.hs_code)
    received = LotReceived(
        pool_id=pool_id,
        aggregator_org=state.aggregator_org,
        lot_id=command.lot_id,
        msme_id=command.msme_id,
        product_id=product_id,
        quantity=command.quantity,
        lot_code=command.lot_code,
        delivered_on=command.delivered_on,
        hs_code=state.hs_code,
        standard_id=state.standard_id,
        standard_version=state.standard_version,
        unit=state.unit,
        lines=spread(state.lines.values(), command.quantity, lambda line: line.accepted - line.delivered),
        progress=[],
        received_by=command.by,
        plot_ids=plot_ids,
        at=command.at,
    )
    return [with_progress(state, received)]


def lot_plots(command: ReceiveLot, hs_code: str) -> list[UUID]:
    """The plots the lot came from: those named (each an active plot of the MSME, of the pool's EUDR commodity
    when it has one), or by default every active plot of the MSME for that commodity."""
    commodity = annex_i().commodity_of(hs_code)
    if command.plot_ids is None:
        return sorted(plot for plot, grown in command.msme_plots if commodity is not None and grown == commodity)
    held = dict(command.msme_plots)
    errors: list[FieldError] = []
    for index, plot in enumerate(command.plot_ids):
        path = f"plot_ids[{index}]"
        if plot not in held:
            errors.append(FieldError(path, "is not an active plot of the lot's MSME"))
        elif commodity is not None and held[plot] != commodity:
            errors.append(FieldError(path, f"is a {held[plot]} plot; this pool's goods are {commodity}"))
        elif plot in command.plot_ids[:index]:
            errors.append(FieldError(path, "is named twice"))
    if errors:
        raise InvalidInput(errors)
    return list(command.plot_ids)


def pass_lot(command: PassLot, state: Pool, pool_id: UUID) -> Sequence[PoolingEvent]:
    lot = state.lots.get(command.lot_id)
    if lot is None or lot.status != "received" or not state.trusts_inspector(command.inspector_org):
        return []
    passed = LotPassed(
        pool_id=pool_id,
        lot_id=lot.lot_id,
        msme_id=lot.msme_id,
        quantity=lot.quantity,
        inspection_id=command.inspection_id,
        lines=list(lot.lines),
        progress=[],
        at=command.at,
    )
    events: list[PoolingEvent] = [with_progress(state, passed)]
    after = evolve(state, passed)
    if not after.filled and after.demand and after.passed >= after.demand:
        lines = [_line(line.order_id, line.line_id, line.passed) for line in after.lines.values()]
        events.append(
            PoolFilled(
                pool_id=pool_id,
                aggregator_org=state.aggregator_org,
                demand=after.demand,
                passed=after.passed,
                lines=lines,
                progress=progress_of(after.lines),
                at=command.at,
            )
        )
    return events


def return_lot(command: ReturnLot, state: Pool, pool_id: UUID) -> Sequence[PoolingEvent]:
    lot = state.lots.get(command.lot_id)
    if lot is None or lot.status != "received" or not state.trusts_inspector(command.inspector_org):
        return []
    returned = LotReturned(
        pool_id=pool_id,
        lot_id=lot.lot_id,
        msme_id=lot.msme_id,
        quantity=lot.quantity,
        reason=command.reason,
        inspection_id=command.inspection_id,
        lines=list(lot.lines),
        progress=[],
        at=command.at,
    )
    return [with_progress(state, returned)]


def ship(command: Ship, state: Pool, pool_id: UUID) -> Sequence[PoolingEvent]:
    lots = sorted(
        (lot for lot in state.lots.values() if lot.status == "passed" and not lot.shipped), key=lambda lot: lot.lot_id
    )
    quantity = sum(lot.quantity for lot in lots)
    if not quantity:
        raise Conflict("no lot has passed inspection since the last shipment", problem="nothing-to-ship")
    still_needed = state.demand - state.shipped
    if quantity < still_needed and not command.partial:
        raise Conflict(
            f"lots that passed inspection hold {quantity} of the {still_needed} still to ship; ship partially "
            "only with the buyers' consent (partial: true and a consent_reference)",
            problem="not-filled",
            passed=quantity,
            needed=still_needed,
        )
    if command.partial and not command.consent_reference:
        raise InvalidInput.of("consent_reference", "is required for a partial shipment")
    errors = [
        FieldError(f"{name}.currency", f"must be the pool's currency, {state.currency}")
        for name in ("freight", "insurance")
        if (cost := getattr(command, name)) is not None and cost.currency != state.currency
    ]
    if errors:
        raise InvalidInput(errors)
    shipped = ConsignmentShipped(
        pool_id=pool_id,
        aggregator_org=state.aggregator_org,
        consignment_id=command.consignment_id,
        lots=[
            ShippedLot(lot_id=lot.lot_id, msme_id=lot.msme_id, lot_code=lot.lot_code, quantity=lot.quantity)
            for lot in lots
        ],
        quantity=quantity,
        partial=quantity < still_needed,
        consent_reference=command.consent_reference if command.partial else None,
        lines=spread(state.lines.values(), quantity, lambda line: line.passed - line.shipped),
        progress=[],
        shipped_by=command.by,
        packages=None if command.packages is None else list(command.packages),
        freight=command.freight,
        insurance=command.insurance,
        at=command.at,
    )
    return [with_progress(state, shipped)]


def _line(order_id: UUID, line_id: UUID, quantity: int) -> LineQuantity:
    return LineQuantity(order_id=order_id, line_id=line_id, quantity=quantity)
