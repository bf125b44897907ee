"""Background work that survives faults: a task that dies is logged, named by ``/ready`` while it is down and
started again; a consumer counts only its handler's own failures towards a dead letter, never an outage."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from types import SimpleNamespace
from uuid import UUID

import asyncpg
import pytest

from services.orders.app import service as orders
from services.pooling.workers import reallocation_worker
from shared.config import Settings
from shared.eventstore import Connection, EventStore
from shared.http import create_app
from shared.inbox import Delivery, HandlerContext, Subscription
from shared.kernel.clock import ManualClock
from shared.projection import Projector
from shared.runtime import Runtime
from shared.schedule import DueAction, run_due_actions, schedule
from shared.service import ServiceContext
from tests.integration.pooling.harness import http_server
from tests.support.app import TOKENS
from tests.support.audit_service import audit_service, record
from tests.support.ledger import CODEC, Opened
from tests.support.ledger_service import ledger_service
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


class Crashing:
    """A worker with a bug: it raises as soon as it starts, until cured."""

    __name__ = "crashing"

    def __init__(self) -> None:
        self.runs = 0
        self.cured = asyncio.Event()

    async def __call__(self, context: ServiceContext) -> None:
        self.runs += 1
        if not self.cured.is_set():
            raise RuntimeError("the worker tripped over a bug")
        await asyncio.Event().wait()  # works until stopped


async def test_a_task_that_dies_is_logged_named_by_ready_and_started_again(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    crashing = Crashing()
    service = replace(ledger_service, workers=[crashing])
    runtime = Runtime(settings, [service])
    caplog.set_level(logging.ERROR, logger="gotong.runtime")
    async with http_server(create_app(settings, [service], runtime=runtime)) as client:

        async def named_while_down() -> bool:
            ready = await client.get("/ready")
            body = ready.json()
            down = body["down"] == ["worker:ledger:crashing"] and "worker:ledger:crashing" in body["detail"]
            return ready.status_code == 503 and down and not body["checks"]["tasks"]

        async def started_again() -> bool:
            return crashing.runs >= 3

        await eventually(started_again)
        await eventually(named_while_down)
        unready = await client.get("/ready")
        assert "tripped" not in unready.text, "the error stays in the log, not in answers to clients"

        crashing.cured.set()

        async def ready() -> bool:
            answer = await client.get("/ready")
            return answer.status_code == 200 and answer.json()["down"] == []

        await eventually(ready)
        deaths = [r for r in caplog.records if "worker:ledger:crashing" in r.getMessage()]
        assert len(deaths) == crashing.runs - 1, "each death is logged once"
        assert all(r.exc_info and "tripped over a bug" in str(r.exc_info[1]) for r in deaths), "with its traceback"


async def test_a_handler_that_loses_its_database_connection_is_retried_never_dead_lettered(
    settings: Settings, pool: asyncpg.Pool
) -> None:
    tries: Counter[UUID] = Counter()

    async def losing_its_connection(context: HandlerContext, delivery: Delivery) -> None:
        tries[delivery.event_id] += 1
        if tries[delivery.event_id] <= 2 * settings.max_deliveries:
            raise asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation")
        await record(context, delivery)

    subscription = Subscription("ledger-audit", source="ledger", codec=CODEC, handle=losing_its_connection)
    audit = replace(audit_service, subscriptions=[subscription])
    runtime = Runtime(settings, [ledger_service, audit])
    await runtime.start()
    try:
        await runtime.contexts["ledger"].store.append("outage", "account", 0, [Opened(owner="x")])

        async def handled() -> bool:
            return bool(await pool.fetchval("SELECT count(*) FROM audit.seen") == 1)

        await eventually(handled, timeout=30)
        assert await pool.fetchval("SELECT count(*) FROM audit.dead_letters") == 0
        assert list(tries.values()) == [2 * settings.max_deliveries + 1]
    finally:
        await runtime.stop()


async def test_a_due_action_that_meets_an_outage_is_not_put_off_but_fired_once_the_database_answers(
    settings: Settings, pool: asyncpg.Pool
) -> None:
    now = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)
    store = EventStore(pool, "orders", orders.codec)
    context = ServiceContext(orders, settings, pool, store, ManualClock(now), TOKENS, Projector(store, []))
    tries: list[str] = []

    async def remind(ctx: ServiceContext, action: DueAction, connection: Connection) -> None:
        tries.append(action.subject)
        if len(tries) <= 2:
            raise asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command")

    await schedule(pool, "reminder", "order-1", now, schema="orders")
    worker = asyncio.create_task(run_due_actions(context, {"reminder": remind}, poll=0.05))
    try:

        async def fired() -> bool:
            return await pool.fetchval("SELECT done_at FROM orders.due_actions WHERE subject = 'order-1'") is not None

        await eventually(fired)  # the clock stands still: an action put off by its retry delay would never fire
        assert tries == ["order-1"] * 3 and not worker.done()
    finally:
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)


async def test_the_reallocation_worker_waits_out_an_outage_logging_it_once_not_every_poll(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    closed = await asyncpg.create_pool(database_url, min_size=1, max_size=1)
    await closed.close()  # every query now fails as an outage (InterfaceError: the pool is closed)
    ctx = SimpleNamespace(pool=closed, clock=ManualClock(datetime(2027, 1, 4, 9, tzinfo=UTC)))
    caplog.set_level(logging.DEBUG, logger="gotong")
    worker = asyncio.create_task(reallocation_worker(ctx))  # type: ignore[arg-type]
    try:

        async def tried_four_times() -> bool:
            return any("still failing (4)" in r.getMessage() for r in caplog.records)

        await eventually(tried_four_times)
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
    warnings = [r for r in caplog.records if r.name.startswith("gotong") and r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "re-allocation" in warnings[0].getMessage(), [r.getMessage() for r in warnings]
