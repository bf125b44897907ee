"""Due actions (``shared.schedule``): fired once when due by the service's clock, across concurrent workers."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from services.orders.app import service
from shared.eventstore import Connection, EventStore
from shared.kernel.clock import ManualClock
from shared.projection import Projector
from shared.schedule import RETRY_AFTER, DueAction, fire_due_actions, run_due_actions, schedule
from shared.service import ServiceContext
from tests.conftest import Servers
from tests.support.app import TOKENS, settings_for

pytestmark = pytest.mark.integration

START = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def ctx(pool: asyncpg.Pool, database_url: str, servers: Servers, clock: ManualClock) -> ServiceContext:
    store = EventStore(pool, "orders", service.codec)
    settings = settings_for(database_url, servers.nats_url, "unused")
    return ServiceContext(service, settings, pool, store, clock, TOKENS, Projector(store, []))


class Reminders:
    """A handler that records what it was asked to do."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.fired: list[tuple[str, dict[str, object]]] = []
        self.fail_on = fail_on
        self.any_fired = asyncio.Event()

    async def __call__(self, ctx: ServiceContext, action: DueAction, connection: Connection) -> None:
        await asyncio.sleep(0)  # let concurrent firers interleave
        if action.subject == self.fail_on:
            raise RuntimeError("the reminder could not be sent")
        self.fired.append((action.subject, action.payload))
        self.any_fired.set()


async def test_an_action_fires_once_when_due_and_again_only_if_rescheduled(
    ctx: ServiceContext, clock: ManualClock
) -> None:
    reminders = Reminders()
    handlers = {"reminder": reminders}
    await schedule(ctx.pool, "reminder", "order-1", START + timedelta(hours=1), {"quote_number": 1}, schema="orders")
    assert await fire_due_actions(ctx, handlers) == 0
    clock.advance(timedelta(hours=1))
    assert await fire_due_actions(ctx, handlers) == 1
    assert await fire_due_actions(ctx, handlers) == 0
    assert reminders.fired == [("order-1", {"quote_number": 1})]
    await schedule(ctx.pool, "reminder", "order-1", START + timedelta(hours=3), {"quote_number": 2}, schema="orders")
    clock.advance(timedelta(hours=1))
    assert await fire_due_actions(ctx, handlers) == 0
    clock.advance(timedelta(hours=1))
    assert await fire_due_actions(ctx, handlers) == 1
    assert reminders.fired[-1] == ("order-1", {"quote_number": 2})


async def test_kinds_without_a_handler_are_left_for_another_worker(ctx: ServiceContext, clock: ManualClock) -> None:
    await schedule(ctx.pool, "someone-elses", "x", START, schema="orders")
    assert await fire_due_actions(ctx, {"reminder": Reminders()}) == 0
    assert await ctx.pool.fetchval("SELECT done_at FROM orders.due_actions WHERE subject = 'x'") is None


async def test_concurrent_workers_fire_each_action_exactly_once(ctx: ServiceContext, clock: ManualClock) -> None:
    subjects = [f"order-{n}" for n in range(40)]
    for n, subject in enumerate(subjects):
        await schedule(ctx.pool, "reminder", subject, START + timedelta(seconds=n), schema="orders")
    clock.advance(timedelta(minutes=1))
    reminders = Reminders()
    counts = await asyncio.gather(*(fire_due_actions(ctx, {"reminder": reminders}, limit=7) for _ in range(6)))
    while await fire_due_actions(ctx, {"reminder": reminders}, limit=7):
        pass
    fired = Counter(subject for subject, _ in reminders.fired)
    assert set(fired) == set(subjects) and set(fired.values()) == {1}
    assert sum(counts) <= len(subjects)


async def test_a_failing_action_is_retried_later_without_holding_up_the_others(
    ctx: ServiceContext, clock: ManualClock
) -> None:
    for subject in ("a", "b", "c"):
        await schedule(ctx.pool, "reminder", subject, START, schema="orders")
    reminders = Reminders(fail_on="b")
    assert await fire_due_actions(ctx, {"reminder": reminders}) == 2
    assert [s for s, _ in reminders.fired] == ["a", "c"]
    row = await ctx.pool.fetchrow("SELECT due_at, done_at FROM orders.due_actions WHERE subject = 'b'")
    assert row is not None and row["done_at"] is None and row["due_at"] == START + RETRY_AFTER
    reminders.fail_on = None
    clock.advance(RETRY_AFTER)
    assert await fire_due_actions(ctx, {"reminder": reminders}) == 1
    assert [s for s, _ in reminders.fired] == ["a", "c", "b"]


async def test_the_worker_fires_when_the_clock_reaches_the_deadline(ctx: ServiceContext, clock: ManualClock) -> None:
    reminders = Reminders()
    await schedule(ctx.pool, "reminder", "order-9", START + timedelta(days=2), schema="orders")
    worker = asyncio.create_task(run_due_actions(ctx, {"reminder": reminders}, poll=0.02))
    try:
        assert await fire_due_actions(ctx, {"reminder": reminders}) == 0
        clock.advance(timedelta(days=2))
        await asyncio.wait_for(reminders.any_fired.wait(), timeout=10)
        assert reminders.fired == [("order-9", {})]
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
