"""PostgreSQL connections: pools, per-test databases cloned from a migrated template."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

import asyncpg

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


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
