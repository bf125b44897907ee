"""Tries again after 5 s doubling to an hour, for a day from the first try; disabling after a day of failures,
or a number of failures in a row where the operator set one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.webhooks.domain.retries import DisablingRule, Streak, next_attempt, succeeded, wait_after

pytestmark = pytest.mark.unit

AT = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def test_waits_double_from_five_seconds_up_to_an_hour() -> None:
    assert [wait_after(n).total_seconds() for n in range(1, 13)] == [
        5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600,
    ]  # fmt: skip
    assert wait_after(10_000) == timedelta(hours=1)


def test_a_message_is_tried_for_a_day_from_its_first_try_then_given_up() -> None:
    now, attempt, tries = AT, 1, [AT]
    while (retry := next_attempt(attempt, AT, now)) is not None:
        now, attempt = retry, attempt + 1
        tries.append(now)
    assert tries[-1] - AT <= timedelta(hours=24) and tries[-1] + timedelta(hours=1) - AT > timedelta(hours=24)
    assert 30 <= len(tries) <= 34
    assert next_attempt(1, AT - timedelta(hours=23, minutes=59, seconds=58), AT) is None


def test_only_a_2xx_delivers() -> None:
    assert [succeeded(s) for s in (200, 204, 299, 301, 404, 503, None)] == [
        True,
        True,
        True,
        False,
        False,
        False,
        False,
    ]


def test_a_day_of_failures_disables_and_so_does_a_count_where_set() -> None:
    rule = DisablingRule()
    streak = Streak().failed(AT).failed(AT + timedelta(hours=1))
    assert streak == Streak(2, AT)
    assert rule.reason(streak, AT + timedelta(hours=23)) is None
    assert rule.reason(streak.failed(AT + timedelta(hours=24)), AT + timedelta(hours=24)) == (
        "every try failed for 24 h (3 tries)"
    )
    assert rule.reason(Streak(10_000, AT), AT + timedelta(minutes=5)) is None  # a count alone, by default, never
    counting = DisablingRule(disable_after_failures=50)
    assert counting.reason(Streak(49, AT), AT) is None
    assert counting.reason(Streak(50, AT), AT) == "50 tries in a row failed"
    assert rule.reason(Streak(), AT + timedelta(days=3)) is None
