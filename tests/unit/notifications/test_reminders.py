"""When a request's reminder goes out: ahead of its expiry by GOTONG_REMINDER_BEFORE, halfway for a request given
less time than that (if an hour is still left then), or not at all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.notifications.domain.reminders import reminder_at

pytestmark = pytest.mark.unit
SENT = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
TWELVE_HOURS = timedelta(hours=12)


@pytest.mark.parametrize(
    ("expires_in", "remind_after"),
    [
        (timedelta(hours=48), timedelta(hours=36)),  # the usual: 12 h before
        (timedelta(hours=12, seconds=1), timedelta(seconds=1)),  # still the usual, a second after sending
        (timedelta(hours=12), timedelta(hours=6)),  # as long as the lead time: halfway
        (timedelta(hours=6), timedelta(hours=3)),
        (timedelta(hours=2), timedelta(hours=1)),  # halfway leaves exactly an hour
        (timedelta(hours=2) - timedelta(seconds=1), None),  # less than an hour would be left
        (timedelta(minutes=30), None),
        (timedelta(seconds=1), None),
    ],
)
def test_a_reminder_goes_out_before_the_end_or_halfway_or_not_at_all(
    expires_in: timedelta, remind_after: timedelta | None
) -> None:
    due = reminder_at(SENT, SENT + expires_in, TWELVE_HOURS)
    assert due == (SENT + remind_after if remind_after is not None else None)


def test_a_shorter_lead_time_moves_the_usual_reminder() -> None:
    assert reminder_at(SENT, SENT + timedelta(hours=6), timedelta(minutes=90)) == SENT + timedelta(hours=4, minutes=30)
