"""Other services' events that touched an order, told as sentences for its history. Pure.

Pooling's events name the order lines they affect; the requests an MSME answers, the lots it delivers and
the consignment are told once each (the pool's own bookkeeping events repeat them and are left out).
Quality's lot verdicts reach an order through the lots delivered for its lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from uuid import UUID

from events.base import Event
from events.pooling import (
    AllocationAccepted,
    AllocationDeclined,
    AllocationExpired,
    AllocationReleased,
    AllocationRequested,
    AllocationWithdrawn,
    CapacityReleased,
    ConsignmentShipped,
    DemandAdded,
    DemandCancelled,
    DemandRemoved,
    DemandUnmatched,
    LineQuantity,
    LotPassed,
    LotReceived,
    LotReturned,
    MonthQuantity,
    PoolFilled,
)
from events.quality import ClassPlan

TOLD = (
    DemandAdded
    | DemandRemoved
    | DemandUnmatched
    | DemandCancelled
    | AllocationRequested
    | AllocationAccepted
    | AllocationDeclined
    | AllocationExpired
    | AllocationWithdrawn
    | AllocationReleased
    | LotReceived
    | LotPassed
    | LotReturned
    | PoolFilled
    | ConsignmentShipped
    | CapacityReleased
)
"""Pooling's events an order's history tells; ``CapacityReleased`` only when the order's own command caused it."""


def orders_named(event: Event) -> set[UUID]:
    """The orders a pooling event names, by its ``order_id`` or the (order, line) quantities it carries."""
    named: set[UUID] = set()
    order_id = getattr(event, "order_id", None)
    if isinstance(order_id, UUID):
        named.add(order_id)
    for field in ("lines", "progress"):
        for line in getattr(event, field, ()):
            named.add(line.order_id)
    return named


def _units(lines: Iterable[LineQuantity], order_id: UUID) -> int:
    return sum(line.quantity for line in lines if line.order_id == order_id)


def _share(total: int, lines: Iterable[LineQuantity], order_id: UUID) -> str:
    """``600`` or ``600 (400 for this order)`` when the units serve several orders."""
    mine = _units(lines, order_id)
    return f"{total}" if mine in (0, total) else f"{total} ({mine} for this order)"


_REASONS = {"capacity_lowered": "the MSME lowered its declared capacity below what it had accepted"}
"""Pooling's reason codes, in words."""


def _plan(plan: Iterable[MonthQuantity]) -> str:
    return ", ".join(f"{m.quantity} in {m.month}" for m in plan)


def pooling_summary(
    event: Event, order_id: UUID, names: Mapping[UUID, str], lot_codes: Mapping[UUID, str] | None = None
) -> str | None:
    """What the event means for the order, or None when its history does not tell it."""
    codes = lot_codes or {}

    def msme(msme_id: UUID) -> str:
        return f"MSME {names.get(msme_id, str(msme_id))}"

    match event:
        case DemandAdded():
            return f"Line {event.line_id} joined pool {event.pool_id} with {event.quantity} units"
        case DemandRemoved():
            return f"Line {event.line_id} left pool {event.pool_id}: {event.reason}"
        case DemandUnmatched():
            return f"Line {event.line_id} waits for a pool: {event.reason}"
        case DemandCancelled():
            return f"Pooling withdrew the order's demand: {event.reason}"
        case AllocationRequested():
            units = _share(event.quantity, event.lines, order_id)
            return (
                f"{msme(event.msme_id)} asked to make {units} {event.unit} at {event.unit_price.amount} "
                f"{event.unit_price.currency} ({_plan(event.plan)}), to answer by {event.expires_at:%Y-%m-%d %H:%M} UTC"
            )
        case AllocationAccepted():
            units = _share(event.quantity, event.lines, order_id)
            return f"{msme(event.msme_id)} accepted {units} of {event.requested} units ({_plan(event.plan)})"
        case AllocationDeclined():
            return (
                f"{msme(event.msme_id)} declined {_share(event.quantity, event.lines, order_id)} units: {event.reason}"
            )
        case AllocationExpired():
            units = _share(event.quantity, event.lines, order_id)
            return f"{msme(event.msme_id)} did not answer a request for {units} units in time; it expired"
        case AllocationWithdrawn():
            units = _share(event.quantity, event.lines, order_id)
            return f"Request to {msme(event.msme_id)} for {units} units withdrawn: {event.reason}"
        case AllocationReleased():
            units = _share(event.quantity, event.lines, order_id)
            still = f"{event.remaining} still to make"
            why = _REASONS.get(event.reason, event.reason)
            return f"{msme(event.msme_id)} released from {units} accepted units ({still}): {why}"
        case LotReceived():
            units = _share(event.quantity, event.lines, order_id)
            return (
                f"Lot {event.lot_code} of {units} {event.unit} from {msme(event.msme_id)} received "
                f"(delivered {event.delivered_on.isoformat()})"
            )
        case LotPassed():
            lot = codes.get(event.lot_id, str(event.lot_id))
            return f"Lot {lot} of {msme(event.msme_id)} passed inspection: {event.quantity} units count"
        case LotReturned():
            lot = codes.get(event.lot_id, str(event.lot_id))
            return f"Lot {lot} of {msme(event.msme_id)} returned to the MSME after inspection: {event.reason}"
        case PoolFilled():
            return f"Pool {event.pool_id} filled: lots that passed inspection cover its demand of {event.demand}"
        case ConsignmentShipped():
            kind = "Partial consignment" if event.partial else "Consignment"
            units = _share(event.quantity, event.lines, order_id)
            lots = f"{len(event.lots)} lot" + ("" if len(event.lots) == 1 else "s")
            return f"{kind} {event.consignment_id} shipped with {lots}, {units} units"
        case CapacityReleased():
            why = _REASONS.get(event.reason, event.reason)
            return f"{msme(event.msme_id)}'s capacity for {event.month} freed by {event.units} units: {why}"
        case _:
            return None


def _plan_of(plan: ClassPlan) -> str:
    sample = f"n={plan.sample_size}" + (" (whole lot)" if plan.inspect_whole_lot else "")
    return f"{plan.defect_class} AQL {plan.aql}: code {plan.code_letter}, {sample}, Ac {plan.accept} Re {plan.reject}"


def sampling_plans(plans: Iterable[ClassPlan]) -> str:
    """``major AQL 1.0: code J, n=80, Ac 2 Re 3; …``"""
    return "; ".join(_plan_of(plan) for plan in plans)


def verdict_summary(
    *,
    accepted: bool,
    lot: str,
    msme: str,
    severity: str,
    inspector_org: str,
    plans: Iterable[ClassPlan],
    reasons: Iterable[str],
) -> str:
    """``Lot CRB-1 of MSME Rotan Jaya accepted at normal inspection by sucofindo (major AQL 1.0: …)``"""
    outcome = "accepted" if accepted else "rejected"
    sentence = (
        f"Lot {lot} of MSME {msme} {outcome} at {severity} inspection by {inspector_org} ({sampling_plans(plans)})"
    )
    why = "; ".join(reasons)
    return f"{sentence}: {why}" if why and not accepted else sentence
