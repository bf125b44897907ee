"""Schema migrations: the event store's tables plus each service's read models, applied once, in order."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import asyncpg
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import CreateIndex, CreateTable

from shared.eventstore import notify_after_commit_sql, schema_sql

log = logging.getLogger("gotong.migrations")
_dialect = postgresql.dialect()  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class Migration:
    """A named, ordered schema change; ``statements`` receives the schema name."""

    name: str
    statements: Callable[[str], Sequence[str]]


def tables_ddl(metadata: sa.MetaData) -> list[str]:
    """CREATE TABLE / INDEX statements for SQLAlchemy Core tables (idempotent).

    A column's ``info["statistics"]`` sets how much the planner samples of it (``SET STATISTICS``).
    """
    statements: list[str] = []
    for table in metadata.sorted_tables:
        statements.append(str(CreateTable(table, if_not_exists=True).compile(dialect=_dialect)))
        for index in table.indexes:
            statements.append(str(CreateIndex(index, if_not_exists=True).compile(dialect=_dialect)))
        name = f"{table.schema}.{table.name}" if table.schema else table.name
        for column in table.columns:
            if "statistics" in column.info:
                statements.append(
                    f"ALTER TABLE {name} ALTER COLUMN {column.name} SET STATISTICS {int(column.info['statistics'])}"
                )
    return statements


def platform_sql(schema: str) -> list[str]:
    """Tables every service has: events, checkpoints, inbox, dead letters, idempotency, due actions."""
    return [
        *schema_sql(schema),
        f"""CREATE TABLE IF NOT EXISTS {schema}.checkpoints (
            name text PRIMARY KEY,
            transaction_id bigint NOT NULL DEFAULT 0,
            position bigint NOT NULL DEFAULT 0,
            updated_at timestamptz NOT NULL DEFAULT now())""",
        f"""CREATE TABLE IF NOT EXISTS {schema}.inbox (
            consumer text NOT NULL,
            event_id uuid NOT NULL,
            handled_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (consumer, event_id))""",
        f"""CREATE TABLE IF NOT EXISTS {schema}.stream_progress (
            consumer text NOT NULL,
            stream_id text NOT NULL,
            version integer NOT NULL,
            PRIMARY KEY (consumer, stream_id))""",
        f"""CREATE TABLE IF NOT EXISTS {schema}.dead_letters (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            consumer text NOT NULL,
            event_id uuid NOT NULL,
            subject text NOT NULL,
            headers jsonb NOT NULL,
            data text NOT NULL,
            error text NOT NULL,
            deliveries integer NOT NULL,
            failed_at timestamptz NOT NULL DEFAULT now(),
            replayed_at timestamptz)""",
        f"""CREATE TABLE IF NOT EXISTS {schema}.idempotency (
            actor text NOT NULL,
            key text NOT NULL,
            fingerprint text NOT NULL,
            status integer,
            body bytea,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (actor, key))""",
        f"""CREATE TABLE IF NOT EXISTS {schema}.due_actions (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            kind text NOT NULL,
            subject text NOT NULL,
            due_at timestamptz NOT NULL,
            payload jsonb NOT NULL DEFAULT '{{}}',
            done_at timestamptz,
            UNIQUE (kind, subject))""",
        f"CREATE INDEX IF NOT EXISTS due_actions_pending ON {schema}.due_actions (due_at) WHERE done_at IS NULL",
    ]


def projection_dead_letters_sql(schema: str) -> list[str]:
    """Events a projection could not apply, parked until replayed; numbered with the consumers' dead letters."""
    return [
        f"""CREATE TABLE IF NOT EXISTS {schema}.projection_dead_letters (
            id bigint PRIMARY KEY DEFAULT nextval('{schema}.dead_letters_id_seq'::regclass),
            projection text NOT NULL,
            event_id uuid NOT NULL,
            stream_id text NOT NULL,
            stream_version integer NOT NULL,
            event_type text NOT NULL,
            transaction_id bigint NOT NULL,
            position bigint NOT NULL,
            error text NOT NULL,
            failed_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (projection, event_id))""",
    ]


PLATFORM = Migration("0000_platform", platform_sql)
NOTIFY_AFTER_COMMIT = Migration("0000_platform_notify_after_commit", notify_after_commit_sql)
PROJECTION_DEAD_LETTERS = Migration("0000_platform_projection_dead_letters", projection_dead_letters_sql)


async def migrate(connection: asyncpg.Connection, schema: str, migrations: Sequence[Migration]) -> list[str]:
    """Apply what is missing of ``[PLATFORM, *migrations]``; safe to run from several processes at once."""
    applied_now: list[str] = []
    async with connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"migrate:{schema}")
        await connection.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        await connection.execute(
            f"CREATE TABLE IF NOT EXISTS {schema}.migrations (name text PRIMARY KEY, "
            "applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {r["name"] for r in await connection.fetch(f"SELECT name FROM {schema}.migrations")}
        for migration in (PLATFORM, NOTIFY_AFTER_COMMIT, PROJECTION_DEAD_LETTERS, *migrations):
            if migration.name in done:
                continue
            for statement in migration.statements(schema):
                await connection.execute(statement)
            await connection.execute(f"INSERT INTO {schema}.migrations (name) VALUES ($1)", migration.name)
            applied_now.append(migration.name)
    return applied_now


def _all(migrations: Sequence[Migration]) -> list[str]:
    return [m.name for m in (PLATFORM, NOTIFY_AFTER_COMMIT, PROJECTION_DEAD_LETTERS, *migrations)]


async def pending(connection: asyncpg.Connection, schema: str, migrations: Sequence[Migration]) -> list[str]:
    """The migrations of ``schema`` not applied yet (all of them before the first)."""
    if await connection.fetchval("SELECT to_regclass($1)", f"{schema}.migrations") is None:
        return _all(migrations)
    done = {r["name"] for r in await connection.fetch(f"SELECT name FROM {schema}.migrations")}
    return [name for name in _all(migrations) if name not in done]


async def wait_until_migrated(
    database_url: str, schemas: Sequence[tuple[str, Sequence[Migration]]], *, timeout: float, poll: float = 2.0
) -> list[str]:
    """Wait (changing nothing) until every schema's migrations are applied, as another process applies them;
    returns what is still missing at the deadline (``schema: migration``), empty once all are there."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    missing = [f"{schema}: (not reachable)" for schema, _ in schemas]
    while True:
        try:
            connection = await asyncpg.connect(database_url, timeout=min(10.0, max(timeout, 1.0)))
            try:
                missing = [
                    f"{schema}: {name}"
                    for schema, migrations in schemas
                    for name in await pending(connection, schema, migrations)
                ]
            finally:
                await connection.close()
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as error:
            log.info("waiting for PostgreSQL: %s", error)
        if not missing or loop.time() + poll > deadline:
            return missing
        await asyncio.sleep(poll)
