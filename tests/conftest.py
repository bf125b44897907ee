"""Test servers: embedded PostgreSQL and NATS started once per session (or the ones GOTONG_* names).

Each test gets its own database, cloned from a migrated template, and its own NATS prefix, so tests never
see each other's events, relays, consumers or locks.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
from hypothesis import settings as hypothesis_settings

from shared.database import create_database, create_pool, drop_database, with_database
from shared.kernel.ids import new_id
from tests.support.browser import browser
from tests.support.servers import template_name

# Under CI=true the suite runs with bounded sizes: a small Hypothesis profile (plus pytest-timeout per test).
hypothesis_settings.register_profile("ci", max_examples=40, deadline=None, print_blob=True)
hypothesis_settings.register_profile("dev", deadline=None)
hypothesis_settings.load_profile("ci" if os.environ.get("CI") else "dev")


@dataclass(frozen=True)
class Servers:
    postgres_url: str
    nats_url: str
    nats: object | None  # EmbeddedNats when embedded, so reliability tests can stop and restart it


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    database_url = os.environ.get("GOTONG_DATABASE_URL")
    nats_url = os.environ.get("GOTONG_NATS_URL")
    if database_url and nats_url:
        yield Servers(database_url, nats_url, None)
        return
    from shared.dev import start_nats, start_postgres

    base = Path(tempfile.mkdtemp(prefix="gotong-test-"))
    base.chmod(0o755)  # the embedded PostgreSQL runs as an unprivileged user when we are root
    postgres = nats = None
    try:
        postgres = start_postgres(base / "postgres", durable=False) if not database_url else None
        nats = start_nats(base / "nats") if not nats_url else None
        yield Servers(
            database_url or (postgres.dsn if postgres else ""),
            nats_url or (nats.url if nats else ""),
            nats,
        )
    finally:
        if nats is not None:
            nats.stop()
        if postgres is not None:
            postgres.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
async def template_database(servers: Servers) -> AsyncIterator[str]:
    """A database with every service migrated, cloned by each test."""
    from tests.support.servers import build_template

    name = template_name()
    await build_template(servers.postgres_url, name)
    yield name
    await drop_database(servers.postgres_url, name)


@pytest.fixture
async def database_url(servers: Servers, template_database: str) -> AsyncIterator[str]:
    name = f"gotong_test_{new_id().hex}"
    url = await create_database(servers.postgres_url, name, template=template_database)
    yield url
    await drop_database(servers.postgres_url, name)


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database_url, size=20)
    yield pool
    await pool.close()


@pytest.fixture
def nats_prefix() -> str:
    return f"t{new_id().hex[-12:]}"


__all__ = ["Servers", "browser", "with_database"]
