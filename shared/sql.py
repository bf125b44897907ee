"""Running SQLAlchemy Core statements on asyncpg connections.

Each shape of statement is compiled once: SQLAlchemy's cache key tells statements apart by their structure and
lists their parameter values, which are bound to the cached compiled form, as SQLAlchemy's own engine does.
"""

from __future__ import annotations

from typing import Any, cast

import asyncpg
from sqlalchemy.dialects.postgresql import asyncpg as pg_asyncpg
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.util import LRUCache

from shared.eventstore import Connection

_dialect = pg_asyncpg.dialect()  # type: ignore[no-untyped-call]
_compiled: LRUCache[Any, SQLCompiler] = LRUCache(1_000)  # twice SQLAlchemy engine's default


def compile_statement(statement: ClauseElement) -> tuple[str, list[Any]]:
    """SQL text with ``$n`` placeholders and its positional arguments."""
    cache_key = statement._generate_cache_key()
    if cache_key is None:  # a construct SQLAlchemy cannot cache: compile it for this use alone
        once = statement.compile(dialect=_dialect, compile_kwargs={"render_postcompile": True})
        values = once.construct_params() or {}
        return str(once), [values[name] for name in getattr(once, "positiontup", None) or []]
    compiled = _compiled.get(cache_key.key)
    if compiled is None:
        compiled = cast(SQLCompiler, statement.compile(dialect=_dialect, cache_key=cache_key))
        _compiled[cache_key.key] = compiled
    params = compiled.construct_params(
        extracted_parameters=cache_key.bindparams, escape_names=False, _collected_params=cache_key.params
    )
    if compiled.literal_execute_params or compiled.post_compile_params:  # IN lists: one placeholder a value
        expanded = compiled._process_parameters_for_postcompile(params)
        return expanded.statement, [expanded.parameters[name] for name in expanded.positiontup or []]
    return compiled.string, [params[name] for name in compiled.positiontup or []]


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
