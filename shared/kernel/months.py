"""Calendar months as Gotong writes them, ``YYYY-MM``: capacity is declared and allocated by month."""

from __future__ import annotations

import re
from datetime import date, datetime

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def is_month(text: str) -> bool:
    return bool(_MONTH.match(text))


def month_of(moment: datetime | date) -> str:
    """The month a day or a moment falls in."""
    return f"{moment.year:04d}-{moment.month:02d}"


def next_month(month: str) -> str:
    year, number = int(month[:4]), int(month[5:7])
    return f"{year + number // 12:04d}-{number % 12 + 1:02d}"


def months_apart(first: str, last: str) -> int:
    """How many months ``last`` is after ``first`` (negative when before)."""
    return (int(last[:4]) - int(first[:4])) * 12 + int(last[5:7]) - int(first[5:7])


def months_from(first: str, last: str) -> list[str]:
    """Every month from ``first`` to ``last`` inclusive (empty when ``last`` is before ``first``)."""
    months: list[str] = []
    current = first
    while current <= last:
        months.append(current)
        current = next_month(current)
    return months


def last_day_of(month: str) -> date:
    """The month's last day."""
    following = next_month(month)
    return date.fromordinal(date(int(following[:4]), int(following[5:7]), 1).toordinal() - 1)
