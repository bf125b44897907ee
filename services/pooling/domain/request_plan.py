"""A request's plan by month and how much of it an MSME takes: an accept keeps the earliest months, a release
gives back the latest months first (or one named month). Pure."""

from __future__ import annotations

from collections.abc import Sequence

from events.pooling import MonthQuantity
from shared.kernel.errors import InvalidInput


def taken(quantity: int | None, requested: int) -> int:
    """What an MSME takes of the ``requested`` units: all of them unless it names fewer, and at least 1."""
    take = requested if quantity is None else quantity
    if not 0 < take <= requested:
        raise InvalidInput.of("quantity", f"must be between 1 and the {requested} requested")
    return take


def earliest(plan: Sequence[MonthQuantity], quantity: int) -> tuple[MonthQuantity, ...]:
    """The first ``quantity`` units of a plan, earliest months first."""
    kept: list[MonthQuantity] = []
    remaining = quantity
    for entry in sorted(plan, key=lambda m: m.month):
        take = min(entry.quantity, remaining)
        if take > 0:
            kept.append(MonthQuantity(month=entry.month, quantity=take))
            remaining -= take
    return tuple(kept)


def split_release(
    plan: Sequence[MonthQuantity], quantity: int, month: str | None
) -> tuple[tuple[MonthQuantity, ...], tuple[MonthQuantity, ...]]:
    """(released, remaining): up to ``quantity`` from ``month``, or from the latest months first."""
    released: dict[str, int] = {}
    remaining = quantity
    for entry in sorted(plan, key=lambda m: m.month, reverse=True):
        if month is not None and entry.month != month:
            continue
        take = min(entry.quantity, remaining)
        if take > 0:
            released[entry.month] = take
            remaining -= take
    kept = tuple(
        MonthQuantity(month=m.month, quantity=m.quantity - released.get(m.month, 0))
        for m in sorted(plan, key=lambda m: m.month)
        if m.quantity - released.get(m.month, 0) > 0
    )
    return tuple(MonthQuantity(month=k, quantity=v) for k, v in sorted(released.items())), kept


def remaining_after(plan: Sequence[MonthQuantity], released: Sequence[MonthQuantity]) -> tuple[MonthQuantity, ...]:
    """What is left of ``plan`` once ``released`` is given back."""
    given_back = {m.month: m.quantity for m in released}
    return tuple(
        MonthQuantity(month=m.month, quantity=m.quantity - given_back.get(m.month, 0))
        for m in plan
        if m.quantity - given_back.get(m.month, 0) > 0
    )
