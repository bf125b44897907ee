"""When the reminder of an allocation request goes out: ``before`` (GOTONG_REMINDER_BEFORE) ahead of its expiry,
or, for a request that expires sooner than that, halfway through the time it was given, if that still leaves at
least an hour to answer; otherwise none (a reminder minutes before the end helps nobody)."""

from __future__ import annotations

from datetime import datetime, timedelta

SHORTEST = timedelta(hours=1)
"""The least time a reminder of a short request leaves to answer."""


def reminder_at(sent_at: datetime, expires_at: datetime, before: timedelta) -> datetime | None:
    """When to remind of a request sent at ``sent_at`` that expires at ``expires_at``, or None for no reminder."""
    usual = expires_at - before
    if usual > sent_at:
        return usual
    half = (expires_at - sent_at) / 2
    return sent_at + half if half >= SHORTEST else None
