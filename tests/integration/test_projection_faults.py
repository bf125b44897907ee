"""A stored event that a projection cannot apply is parked, never retried forever: later events stay visible,
a service still starts, operators see the letter (admin routes, ``/ready``) and replay it after a fix. An outage
of PostgreSQL is not the event's fault: it is retried and never parked."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from dataclasses import replace

import asyncpg
import pytest
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from events.base import Event
from shared.auth import Role
from shared.config import Settings
from shared.eventstore import Connection, EventStore, RecordedEvent
from shared.http import create_app
from shared.migrations import Migration, migrate, tables_ddl
from shared.operations import _projection_dead_letters
from shared.projection import Projection, Projector, Tables
from shared.rebuild import rebuild
from shared.runtime import Runtime
from shared.service import load_services
from shared.sql import execute
from tests.conftest import Servers
from tests.integration.pooling.harness import http_server
from tests.support.app import token
from tests.support.ledger import CODEC, Deposited, Opened
from tests.support.ledger_service import ledger_service
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

ADMIN = token(Role.ADMIN, org="operator")

# A read model with a deliberately narrow column: an owner's name longer than 12 characters does not fit.
narrow = sa.MetaData(schema="ledger")
owners = sa.Table(
    "owners",
    narrow,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("owner", sa.String(12), nullable=False),
)

# The same read model once its column was widened (the fix a later release ships).
widened = sa.MetaData(schema="ledger")
owners_widened = sa.Table(
    "owners", widened, sa.Column("id", sa.Text, primary_key=True), sa.Column("owner", sa.Text, nullable=False)
)


async def project_owner(connection: Connection, tables: Tables, event: Event, record: RecordedEvent) -> None:
    if isinstance(event, Opened):
        await execute(
            connection,
            insert(tables["owners"]).values(id=record.stream_id, owner=event.owner).on_conflict_do_nothing(),
        )


OWNERS = Projection("owners", [owners], project_owner)
narrow_ledger = replace(
    ledger_service,
    migrations=[*ledger_service.migrations, Migration("0002_owners", lambda schema: tables_ddl(narrow))],
    projections=[*ledger_service.projections, OWNERS],
)
TOO_LONG = "a name far longer than twelve characters"


@pytest.fixture
async def store(pool: asyncpg.Pool) -> EventStore:
    async with pool.acquire() as connection:
        await migrate(connection, "ledger", narrow_ledger.migrations)
    return EventStore(pool, "ledger", CODEC)


async def owner_ids(pool: asyncpg.Pool) -> list[str]:
    return [row["id"] for row in await pool.fetch("SELECT id FROM ledger.owners ORDER BY id")]


async def test_an_event_a_projection_cannot_apply_is_parked_and_later_events_stay_visible(
    store: EventStore, pool: asyncpg.Pool, settings: Settings
) -> None:
    await store.append("a1", "account", 0, [Opened(owner="ana")])
    poison = await store.append("a2", "account", 0, [Opened(owner=TOO_LONG)])
    await store.append("a3", "account", 0, [Opened(owner="budi")])

    runtime = Runtime(settings, [narrow_ledger])
    async with http_server(create_app(settings, [narrow_ledger], runtime=runtime)) as client:
        # the start applied everything stored
        assert await owner_ids(pool) == ["a1", "a3"]
        assert await pool.fetchval("SELECT count(*) FROM ledger.accounts") == 3, "other projections unaffected"
        (letter,) = await _projection_dead_letters(pool, "ledger")
        assert letter.projection == "owners" and letter.event_id == str(poison.event_ids[0])
        assert letter.position == poison.position.position and letter.stream_id == "a2"
        assert "StringDataRightTruncation" in letter.error

        later = await store.append("a4", "account", 0, [Opened(owner="citra")])
        assert await runtime.contexts["ledger"].projector.wait_for(later.position.position, timeout=20)
        assert await owner_ids(pool) == ["a1", "a3", "a4"], "the projection went on past the parked event"

        ready = await client.get("/ready")
        assert ready.status_code == 200, "a parked event does not take a service out of service"
        (named,) = ready.json()["parked"]["ledger.owners"]
        assert named["event_id"] == str(poison.event_ids[0]) and named["id"] == letter.id

        listed = (await client.get("/v1/admin/ledger/dead-letters", headers=ADMIN)).json()
        assert [p["event_id"] for p in listed["projections"]] == [letter.event_id] and listed["items"] == []

        still = await client.post(f"/v1/admin/ledger/dead-letters/{letter.id}/replay", headers=ADMIN)
        assert still.status_code == 409 and still.json()["type"] == "/problems/still-failing", still.text
        assert "StringDataRightTruncation" in still.json()["detail"]
        assert len(await _projection_dead_letters(pool, "ledger")) == 1, "a failed replay keeps its letter"

        await pool.execute("ALTER TABLE ledger.owners ALTER COLUMN owner TYPE text")  # the fix
        replayed = await client.post(f"/v1/admin/ledger/dead-letters/{letter.id}/replay", headers=ADMIN)
        assert replayed.status_code == 201 and replayed.json() == {"id": letter.id, "replayed": True}
        assert await pool.fetchval("SELECT owner FROM ledger.owners WHERE id = 'a2'") == TOO_LONG
        assert await _projection_dead_letters(pool, "ledger") == []
        assert (await client.get("/ready")).json()["parked"] == {}
        again = await client.post(f"/v1/admin/ledger/dead-letters/{letter.id}/replay", headers=ADMIN)
        assert again.status_code == 404


async def test_a_stored_event_that_does_not_decode_never_stops_a_start(
    store: EventStore, pool: asyncpg.Pool, settings: Settings
) -> None:
    await store.append("b1", "account", 0, [Opened(owner="ana")])
    await pool.execute(
        "INSERT INTO ledger.events (event_id, stream_id, stream_type, stream_version, event_type, schema_version, "
        "data, metadata) VALUES (gen_random_uuid(), 'b1', 'account', 2, 'Deposited', 2, '{\"amount\": \"lots\"}', '{}')"
    )
    await store.append("b1", "account", 2, [Deposited(amount=5)])
    runtime = Runtime(settings, [narrow_ledger])
    await runtime.start()
    try:
        assert await pool.fetchval("SELECT balance FROM ledger.accounts WHERE id = 'b1'") == 5
        letters = await _projection_dead_letters(pool, "ledger")
        assert [(letter.projection, letter.stream_version) for letter in letters] == [("accounts", 2), ("owners", 2)]
        assert all("ValidationError" in letter.error for letter in letters)
    finally:
        await runtime.stop()


async def test_a_rebuild_after_the_fix_applies_parked_events_in_order_and_drops_their_letters(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    await store.append("d1", "account", 0, [Opened(owner=TOO_LONG)])
    await store.append("d2", "account", 0, [Opened(owner="ana")])
    projector = Projector(store, [OWNERS])
    await projector.catch_up()
    (letter,) = await _projection_dead_letters(pool, "ledger")

    unfixed = await rebuild(store, OWNERS)
    assert unfixed.swapped and await owner_ids(pool) == ["d2"]
    assert [(p.id, p.event_id) for p in await _projection_dead_letters(pool, "ledger")] == [
        (letter.id, letter.event_id)
    ], "still unapplicable: the same letter stays"

    await pool.execute("ALTER TABLE ledger.owners ALTER COLUMN owner TYPE text")
    fixed = await rebuild(store, Projection("owners", [owners_widened], project_owner))
    assert fixed.swapped and await owner_ids(pool) == ["d1", "d2"]
    assert await _projection_dead_letters(pool, "ledger") == [], "the rebuilt table holds the event"
    assert await projector.parked() == {}


class Flaky:
    """A projection whose database connection fails under it a few times, as during a PostgreSQL restart."""

    def __init__(self, failures: int) -> None:
        self.failures = failures

    async def __call__(self, connection: Connection, tables: Tables, event: Event, record: RecordedEvent) -> None:
        if self.failures:
            self.failures -= 1
            raise asyncpg.InterfaceError("cannot perform operation: connection is closed")
        await project_owner(connection, tables, event, record)


async def test_an_outage_under_a_projection_is_retried_and_never_parked(store: EventStore, pool: asyncpg.Pool) -> None:
    flaky = Flaky(failures=4)
    projector = Projector(store, [Projection("owners", [owners], flaky)])
    await store.append("c1", "account", 0, [Opened(owner="ana")])
    with pytest.raises(asyncpg.InterfaceError):
        await projector.catch_up()  # an outage is raised to the caller, not parked
    assert await _projection_dead_letters(pool, "ledger") == []

    task = asyncio.create_task(projector.run(poll_seconds=0.1))
    try:

        async def projected() -> bool:
            return await owner_ids(pool) == ["c1"]

        await eventually(projected)
        assert not task.done(), "the projector survives connection errors"
        assert flaky.failures == 0 and await _projection_dead_letters(pool, "ledger") == []
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def gotong(*args: str, env: dict[str, str]) -> tuple[int, str]:
    """Run the ``gotong`` command; its exit code and what it printed."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from shared.cli import main; raise SystemExit(main())",
        *args,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    return await process.wait(), output.decode()


async def test_gotong_dead_letters_lists_parked_events_and_says_when_one_still_fails(
    pool: asyncpg.Pool, database_url: str, servers: Servers
) -> None:
    (catalog,) = load_services(["catalog"])
    await pool.execute(
        "INSERT INTO catalog.events (event_id, stream_id, stream_type, stream_version, event_type, schema_version, "
        "data, metadata) VALUES (gen_random_uuid(), 'msme-x', 'msme', 1, 'MsmeRegistered', 1, '{\"name\": 5}', '{}')"
    )
    await Projector(EventStore(pool, "catalog", catalog.codec), catalog.projections).catch_up()
    env = {"GOTONG_DATABASE_URL": database_url, "GOTONG_NATS_URL": servers.nats_url, "GOTONG_LOG_LEVEL": "ERROR"}

    code, output = await gotong("dead-letters", "list", "--service", "catalog", env=env)
    assert code == 0, output
    letters = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    taking = {p.name for p in catalog.projections if p.takes is None or "MsmeRegistered" in p.takes}
    assert {letter["projection"] for letter in letters} == taking == {"catalog"}, "plots is never sent it"
    assert all(letter["kind"] == "projection" and letter["stream_id"] == "msme-x" for letter in letters)
    assert all("ValidationError" in letter["error"] for letter in letters)

    code, output = await gotong("dead-letters", "replay", str(letters[0]["id"]), "--service", "catalog", env=env)
    assert code == 1 and "still cannot be applied" in output, output
    code, output = await gotong("dead-letters", "replay", "999999", "--service", "catalog", env=env)
    assert code == 1 and "not found" in output, output
    assert await pool.fetchval("SELECT count(*) FROM catalog.projection_dead_letters") == len(letters)
