"""`gotong migrate --wait`, the init container of every Deployment: it changes nothing, waits while the schema
is missing, and lets the pod start once the migration Job has run."""

from __future__ import annotations

import asyncio
import os
import sysconfig
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from shared.database import create_database, drop_database
from shared.kernel.ids import new_id
from tests.conftest import Servers

pytestmark = pytest.mark.integration
GOTONG = Path(sysconfig.get_path("scripts")) / "gotong"


@pytest.fixture
async def empty_database(servers: Servers) -> AsyncIterator[str]:
    name = f"gotong_empty_{new_id().hex}"
    url = await create_database(servers.postgres_url, name)
    yield url
    await drop_database(servers.postgres_url, name)


async def gotong(database_url: str, nats_url: str, *args: str) -> asyncio.subprocess.Process:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("GOTONG_")}
    environment |= {"GOTONG_DATABASE_URL": database_url, "GOTONG_NATS_URL": nats_url, "GOTONG_LOG_FORMAT": "text"}
    return await asyncio.create_subprocess_exec(
        str(GOTONG), *args, env=environment, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )


async def finished(process: asyncio.subprocess.Process, timeout: float = 60) -> tuple[int, str, str]:
    out, err = await asyncio.wait_for(process.communicate(), timeout)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_a_migrated_schema_lets_the_pod_start_at_once(database_url: str, servers: Servers) -> None:
    code, out, err = await finished(await gotong(database_url, servers.nats_url, "migrate", "--wait", "catalog"))
    assert code == 0, err
    assert "catalog: up to date" in out


async def test_a_missing_schema_keeps_the_pod_waiting_and_names_what_is_missing(
    empty_database: str, servers: Servers
) -> None:
    waiting = await gotong(empty_database, servers.nats_url, "migrate", "--wait", "--timeout", "1", "catalog")
    code, _, err = await finished(waiting)
    assert code == 1
    assert "not migrated after 1 s: catalog: 0000_platform" in err
    assert await _tables(empty_database) == 0, "waiting changed nothing"


async def test_the_wait_ends_when_the_migration_job_has_run(empty_database: str, servers: Servers) -> None:
    waiting = await gotong(empty_database, servers.nats_url, "migrate", "--wait", "--timeout", "120", "orders")
    job = await gotong(empty_database, servers.nats_url, "migrate")
    job_code, _, job_err = await finished(job)
    assert job_code == 0, job_err
    code, out, err = await finished(waiting, timeout=120)
    assert code == 0, err
    assert "orders: up to date" in out


async def _tables(database_url: str) -> int:
    connection = await asyncpg.connect(database_url)
    try:
        count: int = await connection.fetchval(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
        )
        return count
    finally:
        await connection.close()
