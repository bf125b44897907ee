"""The order lines of a pool and how supply is assigned to them.

Units in a pool are interchangeable (one spec, one standard), so supply is assigned to lines by priority:
earliest required-by first, then earliest confirmation. Taking back follows the reverse order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Literal
from uuid import UUID

from events.pooling import LineProgress, LineQuantity

Counter = Literal["accepted", "delivered", "passed", "shipped"]


@dataclass(frozen=True, slots=True)
class Line:
    """One confirmed order line in a pool, with its totals (``delivered`` counts lots not returned)."""

    order_id: UUID
    line_id: UUID
    buyer_org: str
    quantity: int
    required_by: date
    confirmed_at: datetime
    accepted: int = 0
    delivered: int = 0
    passed: int = 0
    shipped: int = 0

    def progress(self) -> LineProgress:
        return LineProgress(
            order_id=self.order_id,
            line_id=self.line_id,
            demand=self.quantity,
            accepted=self.accepted,
            delivered=self.delivered,
            passed=self.passed,
            shipped=self.shipped,
        )


Lines = Mapping[UUID, Line]


def priority(line: Line) -> tuple[date, datetime, UUID, UUID]:
    return line.required_by, line.confirmed_at, line.order_id, line.line_id


def spread(
    lines: Iterable[Line], quantity: int, room: Callable[[Line], int], *, latest_first: bool = False
) -> list[LineQuantity]:
    """Assign ``quantity`` to lines in priority order, each up to its room; may assign less if room runs out."""
    assigned: list[LineQuantity] = []
    remaining = quantity
    for line in sorted(lines, key=priority, reverse=latest_first):
        if remaining <= 0:
            break
        take = min(room(line), remaining)
        if take > 0:
            assigned.append(LineQuantity(order_id=line.order_id, line_id=line.line_id, quantity=take))
            remaining -= take
    return assigned


def total(changes: Iterable[LineQuantity]) -> int:
    return sum(change.quantity for change in changes)


def apply(lines: Lines, changes: Iterable[LineQuantity], counter: Counter, sign: int) -> dict[UUID, Line]:
    """Add (``sign`` 1) or take back (-1) quantities on a counter; changes naming a line that left the pool
    go to the remaining lines in priority order, so the pool's totals stay whole."""
    result = dict(lines)
    for change in changes:
        line = result.get(change.line_id)
        if line is not None:
            result[line.line_id] = replace(line, **{counter: getattr(line, counter) + sign * change.quantity})
            continue

        def room(other: Line) -> int:
            value: int = getattr(other, counter)
            return other.quantity - value if sign > 0 else value

        for moved in spread(result.values(), change.quantity, room, latest_first=sign < 0):
            other = result[moved.line_id]
            result[other.line_id] = replace(other, **{counter: getattr(other, counter) + sign * moved.quantity})
    return result


def rehome(lines: Lines, removed: Line) -> dict[UUID, Line]:
    """Remove a line, moving what it had accepted, delivered, passed and shipped to the other lines with room."""
    result = {key: line for key, line in lines.items() if key != removed.line_id}
    for counter in ("accepted", "delivered", "passed", "shipped"):
        amount: int = getattr(removed, counter)
        if amount:
            moved = LineQuantity(order_id=removed.order_id, line_id=removed.line_id, quantity=amount)
            result = apply(result, [moved], counter, 1)
    return result


def progress_of(lines: Lines, keys: Iterable[UUID] | None = None) -> list[LineProgress]:
    """Totals of the named lines (all lines if none named), in priority order."""
    wanted = None if keys is None else set(keys)
    chosen = [line for line in lines.values() if wanted is None or line.line_id in wanted]
    return [line.progress() for line in sorted(chosen, key=priority)]
