"""Rows a service keeps of another's records, upserted from its events a batch at a time.

A mirror's handler that only inserts or updates rows gathers them in ``Upserts`` and writes each table's in one
``INSERT … SELECT FROM unnest … ON CONFLICT`` statement: a consumer's batch of 100 events then costs a few
round trips to PostgreSQL instead of one per event, which is what held catalog's consumers to a few hundred
events a second under load.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from shared.eventstore import Connection
from shared.inbox import BatchHandler, Delivery, Handler, HandlerContext, batch_handlers

_dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
_quote = _dialect.identifier_preparer.quote


@functools.cache
def _statement(shape: _Shape) -> str:
    return shape.sql()


@dataclass(frozen=True)
class _Shape:
    """One statement's shape: the table, its conflict keys, the columns written and what a conflict does."""

    table: sa.Table
    keys: tuple[str, ...]
    columns: tuple[str, ...]
    update: bool
    unless_newer: str | None
    kept: tuple[str, ...] = ()
    """Columns given for a new row only: a row already there keeps its values."""

    def sql(self) -> str:
        types = [self.table.c[column].type.compile(dialect=_dialect) for column in self.columns]
        unnest = ", ".join(f"${n}::{kind}[]" for n, kind in enumerate(types, start=1))
        table = _dialect.identifier_preparer.format_table(self.table)
        names = ", ".join(_quote(column) for column in self.columns)
        conflict = f"ON CONFLICT ({', '.join(_quote(key) for key in self.keys)})"
        insert = f"INSERT INTO {table} ({names}) SELECT * FROM unnest({unnest}) {conflict}"
        changed = [column for column in self.columns if column not in self.keys and column not in self.kept]
        if not self.update or not changed:
            return f"{insert} DO NOTHING"
        assignments = ", ".join(f"{_quote(column)} = excluded.{_quote(column)}" for column in changed)
        guard = ""
        if self.unless_newer is not None:
            newer = _quote(self.unless_newer)
            guard = f" WHERE {table}.{newer} <= excluded.{newer}"
        return f"{insert} DO UPDATE SET {assignments}{guard}"


class Upserts:
    """Rows to insert or update, gathered from events and written with one statement per table and set of
    columns. For a key met twice the later row's values win, column by column, as writing them in turn would;
    rows are written table by table in the order each table was first met."""

    def __init__(self) -> None:
        self._rows: dict[tuple[sa.Table, tuple[str, ...], bool, str | None], dict[tuple[Any, ...], dict[str, Any]]]
        self._rows = {}
        self._new: dict[tuple[sa.Table, tuple[Any, ...]], dict[str, Any]] = {}  # insert-only values, by row
        self._replaced: dict[tuple[sa.Table, str], dict[Any, list[dict[str, Any]]]] = {}

    def __bool__(self) -> bool:
        return bool(self._rows or self._replaced)

    def replace(self, table: sa.Table, parent: str, value: Any, rows: Sequence[Mapping[str, Any]]) -> None:
        """Make ``rows`` the only rows of ``table`` whose ``parent`` column is ``value`` (a product's standards,
        say): the rows there go, these come (one that is there twice, once)."""
        self._replaced.setdefault((table, parent), {})[value] = [{**row, parent: value} for row in rows]

    def upsert(
        self,
        table: sa.Table,
        keys: Sequence[str],
        row: Mapping[str, Any],
        *,
        update: bool = True,
        unless_newer: str | None = None,
        new: Mapping[str, Any] | None = None,
    ) -> None:
        """Insert ``row``, or where a row has its ``keys`` already, set the other columns given (or, with
        ``update=False``, leave that row; with ``unless_newer``, leave it when its value there is greater).
        ``new`` gives more columns for a row inserted now, which a row already there keeps as they are (unless
        a ``row`` of the same key, before or after, sets them); of a key's upserts, the first inserts."""
        rows = self._rows.setdefault((table, tuple(keys), update, unless_newer), {})
        key = tuple(row[column] for column in keys)
        if new and key not in rows:  # the first upsert of a key inserts its row; later ones find it there
            self._new[(table, key)] = dict(new)
        if not update:
            rows.setdefault(key, dict(row))
        elif unless_newer is not None and key in rows and rows[key][unless_newer] > row[unless_newer]:
            return
        else:
            rows[key] = {**rows.get(key, {}), **row}

    async def write(self, connection: Connection) -> None:
        """Write what was gathered, and start empty again."""
        pending, self._rows = self._rows, {}
        replaced, self._replaced = self._replaced, {}
        new, self._new = self._new, {}
        for (table, parent), children in replaced.items():
            kind, name = (
                table.c[parent].type.compile(dialect=_dialect),
                _dialect.identifier_preparer.format_table(table),
            )
            await connection.execute(f"DELETE FROM {name} WHERE {_quote(parent)} = ANY($1::{kind}[])", list(children))
            keys = tuple(column.name for column in table.primary_key.columns)
            for row in (row for rows in children.values() for row in rows):
                pending.setdefault((table, keys, False, None), {}).setdefault(tuple(row[k] for k in keys), row)
        for (table, keys, update, unless_newer), rows in pending.items():
            by_shape: dict[tuple[tuple[str, ...], tuple[str, ...]], list[dict[str, Any]]] = {}
            for key, given in rows.items():
                kept = {c: v for c, v in new.get((table, key), {}).items() if c not in given}
                row = given | kept
                by_shape.setdefault((tuple(sorted(row)), tuple(sorted(kept))), []).append(row)
            for (columns, kept_columns), group in by_shape.items():
                sql = _statement(_Shape(table, keys, columns, update, unless_newer, kept_columns))
                await connection.execute(sql, *([row[column] for row in group] for column in columns))


Gather = Callable[[Upserts, Delivery], None]
"""What a mirror keeps of one event: the rows it upserts (none for an event it ignores)."""


def mirror_handlers(gather: Gather) -> tuple[Handler, BatchHandler]:
    """A subscription's ``handle`` and ``handle_many`` for a mirror that only upserts rows: both gather with
    ``gather``, one event's rows or a batch's, and write them in one statement per table."""

    async def handle_many(context: HandlerContext, deliveries: Sequence[Delivery]) -> None:
        rows = Upserts()
        for delivery in deliveries:
            gather(rows, delivery)
        await rows.write(context.connection)

    return batch_handlers(handle_many)
