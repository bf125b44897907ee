"""When to try a webhook again, when to give it up, and when to stop sending to a URL altogether.

A message that fails is tried again after 5 s, then 10 s, 20 s… doubling up to an hour between tries, for up
to a day from its first try; then it is given up (a manual redelivery starts a new day). A subscription whose
tries keep failing with no success in between is disabled once the streak has lasted ``disable_after`` (a
day by default) or, where the operator set one, reached ``disable_after_failures`` tries in a row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

FIRST_RETRY = timedelta(seconds=5)
LONGEST_WAIT = timedelta(hours=1)
RETRY_FOR = timedelta(hours=24)
TIMEOUT_SECONDS = 10.0
"""The most one try may take, from resolving the host to reading the answer."""
RESPONSE_KEPT = 1024
"""Bytes of a receiver's answer kept in the delivery log."""


def wait_after(attempt: int) -> timedelta:
    """How long to wait after failed try number ``attempt`` (1 for the first)."""
    doublings = min(max(attempt - 1, 0), 20)
    wait: timedelta = min(FIRST_RETRY * (1 << doublings), LONGEST_WAIT)
    return wait


def next_attempt(attempt: int, first_attempted_at: datetime, now: datetime) -> datetime | None:
    """When to try again after failed try number ``attempt``, or None when the message is given up."""
    at = now + wait_after(attempt)
    return at if at <= first_attempted_at + RETRY_FOR else None


def succeeded(status: int | None) -> bool:
    """A 2xx answer delivers; anything else (an error, a redirect, no answer) is a failure."""
    return status is not None and 200 <= status < 300


@dataclass(frozen=True)
class Streak:
    """A subscription's failures since its last success."""

    failures: int = 0
    since: datetime | None = None

    def failed(self, at: datetime) -> Streak:
        return Streak(self.failures + 1, self.since or at)


@dataclass(frozen=True)
class DisablingRule:
    disable_after: timedelta = timedelta(hours=24)
    disable_after_failures: int = 0
    """0: the number of failures alone never disables."""

    def reason(self, streak: Streak, now: datetime) -> str | None:
        """Why the subscription must be disabled after ``streak``, or None while it may keep trying."""
        if streak.since is None or streak.failures == 0:
            return None
        if self.disable_after_failures and streak.failures >= self.disable_after_failures:
            return f"{streak.failures} tries in a row failed"
        if now - streak.since >= self.disable_after:
            hours = (now - streak.since).total_seconds() / 3600
            return f"every try failed for {hours:.0f} h ({streak.failures} tries)"
        return None
