"""When supply moves an order on: pure rules over its lines and their progress.

The order is *in production* once accepted allocations cover every line, *inspected* once lots that passed
inspection cover every line, and *shipped* once shipped lots cover every line. A later milestone implies the
earlier ones (passed units were accepted first), so the commands come in lifecycle order.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from uuid import UUID

from services.orders.domain.line_progress import NO_PROGRESS, LineProgress, Measure
from services.orders.domain.order import MarkInspected, MarkShipped, Order, StartProduction

MilestoneCommand = StartProduction | MarkInspected | MarkShipped
_FOLLOWS_SUPPLY = frozenset({"confirmed", "in_production", "inspected"})


def covers(order: Order, progress: Mapping[UUID, LineProgress], measure: Measure) -> bool:
    """Does ``measure`` reach the ordered quantity on every line of the order?"""
    return bool(order.lines) and all(
        getattr(progress.get(line.line_id, NO_PROGRESS), measure) >= line.quantity for line in order.lines
    )


def due_milestones(
    order: Order,
    progress: Mapping[UUID, LineProgress],
    at: datetime,
    consignment_id: UUID | None = None,
    since: Mapping[Measure, datetime] | None = None,
) -> list[MilestoneCommand]:
    """The commands that bring the order up to what its supply has reached (none once shipped or cancelled).

    Each is dated by ``since``: when the last line reached the measure, as pooling's events tell it; else
    ``at``, the time of the event that brought it there. Pools' events reach orders in any order between
    pools, so the event heard last need not be the one that happened last.
    """
    if order.state not in _FOLLOWS_SUPPLY:
        return []
    times = since or {}
    reached: list[MilestoneCommand] = []
    if covers(order, progress, "accepted"):
        reached.append(StartProduction(at=times.get("accepted", at)))
    elif covers(order, progress, "passed"):
        reached.append(StartProduction(at=times.get("passed", at)))
    if covers(order, progress, "passed"):
        reached.append(MarkInspected(at=times.get("passed", at)))
        if covers(order, progress, "shipped"):
            reached.append(MarkShipped(at=times.get("shipped", at), consignment_id=consignment_id))
    already = {"in_production": 1, "inspected": 2}.get(order.state or "", 0)
    return reached[already:]
