"""Running SQLAlchemy Core statements on asyncpg connections."""

from __future__ import annotations

from typing import Any

import asyncpg
from sqlalchemy.dialects.postgresql import asyncpg as pg_asyncpg
from sqlalchemy.sql import ClauseElement

from shared.eventstore import Connection

_dialect = pg_asyncpg.dialect()  # type: ignore[no-untyped-call]


def compile_statement(statement: ClauseElement) -> tuple[str, list[Any]]:
    """SQL text with ``$n`` placeholders and its positional arguments."""
    compiled = statement.compile(dialect=_dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.construct_params() or {}
    order: list[str] = getattr(compiled, "positiontup", None) or []
    return str(compiled), [params[name] for name in order]


async def execute(connection: Connection | asyncpg.Pool, statement: ClauseElement) -> str:
    sql, args = compile_statement(statement)
    result: str = await connection.execute(sql, *args)
    return result


async def fetch(connection: Connection | asyncpg.Pool, statement: ClauseElement) -> list[asyncpg.Record]:
    sql, args = compile_statement(statement)
    rows: list[asyncpg.Record] = await connection.fetch(sql, *args)
    return rows


async def fetchrow(connection: Connection | asyncpg.Pool, statement: ClauseElement) -> asyncpg.Record | None:
    sql, args = compile_statement(statement)
    row: asyncpg.Record | None = await connection.fetchrow(sql, *args)
    return row
