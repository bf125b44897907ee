"""PostgreSQL connections: pools, per-test databases cloned from a migrated template."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit, urlunsplit

import asyncpg

log = logging.getLogger("gotong.database")
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_giving_back: set[asyncio.Task[None]] = set()


def quote_identifier(name: str) -> str:
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a safe identifier: {name!r}")
    return name


def with_database(url: str, database: str) -> str:
    """The same server URL pointing at another database."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


async def create_pool(url: str, *, size: int = 10, application: str = "gotong") -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        url,
        min_size=1,
        max_size=size,
        server_settings={"application_name": application, "idle_in_transaction_session_timeout": "60000"},
    )
    assert pool is not None
    return pool


@asynccontextmanager
async def borrowed(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """A connection from ``pool``, given back at the end of the block without waiting for the pool to reset it.

    asyncpg resets each connection it takes back (advisory locks, listeners, settings): a round trip. A consumer
    acknowledges its batch and goes on to the next meanwhile, instead of after. ``Pool.close`` still waits for it.
    """
    connection = await pool.acquire()
    try:
        yield connection
    finally:
        task = asyncio.ensure_future(pool.release(connection))
        _giving_back.add(task)
        task.add_done_callback(_given_back)


def _given_back(task: asyncio.Task[None]) -> None:
    _giving_back.discard(task)
    if not task.cancelled() and (error := task.exception()) is not None:
        log.debug("a connection was closed instead of given back: %s", error)  # the pool opens another


async def create_database(server_url: str, name: str, *, template: str | None = None) -> str:
    """Create database ``name`` (optionally from ``template``) and return its URL."""
    connection = await asyncpg.connect(server_url)
    try:
        clause = f" TEMPLATE {quote_identifier(template)}" if template else ""
        await connection.execute(f"CREATE DATABASE {quote_identifier(name)}{clause}")
    finally:
        await connection.close()
    return with_database(server_url, name)


async def drop_database(server_url: str, name: str) -> None:
    connection = await asyncpg.connect(server_url)
    try:
        await connection.execute(f"DROP DATABASE IF EXISTS {quote_identifier(name)} WITH (FORCE)")
    finally:
        await connection.close()
