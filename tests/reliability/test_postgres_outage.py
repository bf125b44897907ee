"""PostgreSQL stopped or killed under a running service: clients get 503s with Retry-After (never a 500), no
healthy event is dead-lettered, and once the server is back the read models and consumers catch up and
``/ready`` answers 200 again. Each test runs its own PostgreSQL, since it stops it."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace

import asyncpg
import httpx
import pytest

from shared.auth import Role
from shared.config import Settings
from shared.database import create_database, create_pool
from shared.eventstore import StreamAppend
from shared.http import create_app
from shared.inbox import Delivery, HandlerContext, Subscription
from shared.kernel.ids import new_id
from shared.runtime import Runtime
from tests.conftest import Servers
from tests.integration.pooling.harness import http_server
from tests.support.app import settings_for, token
from tests.support.audit_service import audit_service, record
from tests.support.ledger import CODEC, Opened
from tests.support.ledger_service import ledger_service
from tests.support.restartable_postgres import RestartablePostgres, restartable_postgres
from tests.support.waiting import eventually

pytestmark = pytest.mark.reliability

BUYER = token(Role.BUYER, org="rotterdam-home")
OUTAGE_SECONDS = 3.0  # how long the database stays away where the length of the outage is the point


@pytest.fixture(scope="module")
def postgres() -> Iterator[RestartablePostgres]:
    with restartable_postgres() as server:
        yield server


@pytest.fixture
async def settings(postgres: RestartablePostgres, servers: Servers, nats_prefix: str) -> Settings:
    name = f"gotong_outage_{new_id().hex}"
    url = await create_database(postgres.url(), name)
    return settings_for(url, servers.nats_url, nats_prefix)


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    """The test's own look at the database (its connections break during an outage and are replaced)."""
    pool = await create_pool(settings.database_url or "", size=2)
    yield pool
    await pool.close()


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert int(response.headers["retry-after"]) >= 1
    problem = response.json()
    assert problem["type"] == "/problems/unavailable" and problem["status"] == 503
    assert "retry" in problem["detail"] and "Error" not in problem["detail"], "no internals"


async def test_every_route_answers_503_with_retry_after_while_postgres_is_down(
    postgres: RestartablePostgres, settings: Settings
) -> None:
    runtime = Runtime(settings, [ledger_service])
    async with http_server(create_app(settings, [ledger_service], runtime=runtime)) as client:
        created = (await client.post("/v1/accounts", json={"owner": "ana"}, headers=BUYER)).json()
        account = f"/v1/accounts/{created['id']}"
        await postgres.stop()
        try:
            later = created["position"] + 5
            assert_unavailable(await client.get(f"{account}?wait_for_position={later}", headers=BUYER))
            assert_unavailable(await client.get(account, headers=BUYER))
            assert_unavailable(await client.post(f"{account}/deposits", json={"amount": 5}, headers=BUYER))
            assert_unavailable(await client.post("/v1/accounts", json={"owner": "budi"}, headers=BUYER))
            ready = await client.get("/ready")
            assert ready.status_code == 503 and ready.json()["checks"]["postgres"] is False
        finally:
            await postgres.start()

        async def served_again() -> bool:
            return (await client.get(account, headers=BUYER)).status_code == 200

        await eventually(served_again, timeout=30)
        deposit = await client.post(f"{account}/deposits", json={"amount": 5}, headers=BUYER)
        assert deposit.status_code == 201, deposit.text
        read = await client.get(f"{account}?wait_for_position={deposit.json()['position']}", headers=BUYER)
        assert read.json()["balance"] == 5


async def test_read_models_and_consumers_catch_up_after_postgres_is_killed_under_writes(
    postgres: RestartablePostgres, settings: Settings, db: asyncpg.Pool
) -> None:
    runtime = Runtime(settings, [ledger_service, audit_service])
    statuses: Counter[int] = Counter()
    created: list[str] = []
    writing = True

    async def write(client: httpx.AsyncClient) -> None:
        while writing:
            try:
                answer = await client.post("/v1/accounts", json={"owner": "ana"}, headers=BUYER)
            except httpx.TransportError:
                statuses[0] += 1
                continue
            statuses[answer.status_code] += 1
            if answer.status_code == 201:
                created.append(answer.json()["id"])
            else:
                await asyncio.sleep(0.05)  # a client backing off as Retry-After asks

    async with http_server(create_app(settings, [ledger_service, audit_service], runtime=runtime)) as client:
        writers = [asyncio.create_task(write(client)) for _ in range(4)]
        try:
            await eventually(lambda: _at_least(created, 40), timeout=30)
            await postgres.kill()
            await eventually(lambda: _refused(statuses), timeout=30)
            await postgres.start()
            before = len(created)
            await eventually(lambda: _at_least(created, before + 40), timeout=60)
        finally:
            writing = False
            await asyncio.gather(*writers)

        async def caught_up() -> bool:
            stored = await db.fetchval("SELECT count(*) FROM ledger.events")
            projected = await db.fetchval("SELECT count(*) FROM ledger.accounts")
            consumed = await db.fetchval("SELECT count(DISTINCT event_id) FROM audit.seen")
            return bool(stored == projected == consumed)

        await eventually(caught_up, timeout=60)
        projected = {row["id"] for row in await db.fetch("SELECT id FROM ledger.accounts")}
        assert set(created) <= projected
        assert await db.fetchval("SELECT count(*) FROM audit.dead_letters") == 0

        async def ready() -> bool:
            return (await client.get("/ready")).status_code == 200

        await eventually(ready, timeout=30)
        assert set(statuses) <= {201, 503}, f"only successes and 503s, never a 500: {statuses}"


async def _at_least(created: list[str], n: int) -> bool:
    return len(created) >= n


async def _refused(statuses: Counter[int]) -> bool:
    return any(status != 201 for status in statuses)


async def test_events_in_flight_during_an_outage_are_handled_after_it_and_never_dead_lettered(
    postgres: RestartablePostgres, settings: Settings, db: asyncpg.Pool
) -> None:
    entered, release = asyncio.Event(), asyncio.Event()

    async def held_at_first(context: HandlerContext, delivery: Delivery) -> None:
        if delivery.stream_id == "first" and not release.is_set():
            entered.set()
            await release.wait()  # the outage begins while this handler's transaction is open
        await record(context, delivery)

    subscription = Subscription("ledger-audit", source="ledger", codec=CODEC, handle=held_at_first)
    audit = replace(audit_service, subscriptions=[subscription])
    runtime = Runtime(settings, [ledger_service, audit])
    await runtime.start()
    try:
        # One commit, so the relay publishes all at once (the held handler's open transaction would keep later
        # commits below the relay's horizon) and the consumer fetches them together.
        streams = ["first", *(f"s{n}" for n in range(20))]
        appends = [StreamAppend(stream, "account", 0, [Opened(owner="x")]) for stream in streams]
        await runtime.contexts["ledger"].store.append_many(appends)
        await asyncio.wait_for(entered.wait(), 30)
        await eventually(lambda: _published(runtime, 21), timeout=30)
        await postgres.stop()
        release.set()
        await asyncio.sleep(OUTAGE_SECONDS)  # the consumer meets the outage with 21 events to handle
        await postgres.start()

        async def all_handled() -> bool:
            return bool(await db.fetchval("SELECT count(DISTINCT event_id) FROM audit.seen") == 21)

        await eventually(all_handled, timeout=20)  # well within the 30 s a lost message would wait
        assert await db.fetchval("SELECT count(*) FROM audit.dead_letters") == 0
    finally:
        await runtime.stop()


async def _published(runtime: Runtime, n: int) -> bool:
    return runtime.relays["ledger"].published >= n
