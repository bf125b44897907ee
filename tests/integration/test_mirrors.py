"""Mirrors' upserts written a batch at a time leave the rows that writing them one at a time leaves."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from shared.mirrors import Upserts

pytestmark = pytest.mark.integration

tables = sa.MetaData(schema="mirror_test")
plain = sa.Table(
    "plain",
    tables,
    sa.Column("key", sa.Integer, primary_key=True),
    sa.Column("part", sa.Text, primary_key=True),
    sa.Column("name", sa.Text),
    sa.Column("units", sa.BigInteger),
    sa.Column("seen", sa.Date),
)
first = sa.Table(
    "first", tables, sa.Column("key", sa.Integer, primary_key=True), sa.Column("name", sa.Text, nullable=False)
)
guarded = sa.Table(
    "guarded",
    tables,
    sa.Column("key", sa.Uuid, primary_key=True),
    sa.Column("org", sa.Text, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)
START = datetime(2027, 1, 1, tzinfo=UTC)


def operations(draw: random.Random, count: int) -> list[tuple[sa.Table, list[str], dict[str, Any], dict[str, Any]]]:
    """Upserts as mirrors make them: partial rows of a plain table (some with columns for a new row only),
    first-wins rows, rows guarded by a time."""
    made: list[tuple[sa.Table, list[str], dict[str, Any], dict[str, Any]]] = []
    for _ in range(count):
        kind = draw.choice((plain, first, guarded))
        if kind is plain:
            row: dict[str, Any] = {"key": draw.randrange(3), "part": draw.choice("ab")}
            new: dict[str, Any] = {}  # columns for a new row only
            for column, value in (
                ("name", draw.choice(("rattan", "teak", None))),
                ("units", draw.randrange(10**12)),
                ("seen", START.date() + timedelta(days=draw.randrange(9))),
            ):
                chance = draw.random()
                if chance < 0.5:
                    row[column] = value
                elif chance < 0.8:
                    new[column] = value
            made.append((plain, ["key", "part"], row, {"new": new} if new else {}))
        elif kind is first:
            made.append(
                (first, ["key"], {"key": draw.randrange(3), "name": f"n{draw.randrange(99)}"}, {"update": False})
            )
        else:
            key = sa.Uuid().python_type(int=draw.randrange(3))
            row = {
                "key": key,
                "org": f"org-{draw.randrange(9)}",
                "updated_at": START + timedelta(hours=draw.randrange(6)),
            }
            made.append((guarded, ["key"], row, {"unless_newer": "updated_at"}))
    return made


async def contents(connection: asyncpg.Connection) -> dict[str, list[tuple[Any, ...]]]:
    return {
        table.name: [
            tuple(row) for row in await connection.fetch(f"SELECT * FROM mirror_test.{table.name} ORDER BY 1, 2")
        ]
        for table in (plain, first, guarded)
    }


async def test_a_batch_of_upserts_leaves_what_one_at_a_time_leaves(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as connection:
        await connection.execute("CREATE SCHEMA mirror_test")
        for table in (plain, first, guarded):
            ddl = sa.schema.CreateTable(table).compile(dialect=postgresql.dialect())  # type: ignore[no-untyped-call]
            await connection.execute(str(ddl))
        draw = random.Random(2027)
        for case in range(60):
            before = operations(draw, draw.randrange(4))  # rows already there
            batch = operations(draw, draw.randrange(1, 25))
            results = []
            for batched in (False, True):
                async with connection.transaction():
                    await connection.execute("TRUNCATE mirror_test.plain, mirror_test.first, mirror_test.guarded")
                    for table, keys, row, options in before:
                        rows = Upserts()
                        rows.upsert(table, keys, row, **options)
                        await rows.write(connection)
                    rows = Upserts()
                    for table, keys, row, options in batch:
                        rows.upsert(table, keys, row, **options)
                        if not batched:
                            await rows.write(connection)
                    assert bool(rows) == batched
                    await rows.write(connection)
                    assert not rows
                    results.append(await contents(connection))
            one_at_a_time, at_once = results
            assert at_once == one_at_a_time, f"case {case}: {batch}"
        assert any(results[1].values())
