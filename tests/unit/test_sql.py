"""Statements compile once per shape: the cached form takes each use's own values, IN lists included."""

from __future__ import annotations

import re
from uuid import UUID

import pytest
import sqlalchemy as sa

from shared.sql import compile_statement

pytestmark = pytest.mark.unit

lots = sa.Table(
    "lots",
    sa.MetaData(),
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("status", sa.Text),
    sa.Column("units", sa.Integer),
)


def _lot(lot_id: UUID, status: str) -> sa.Select[tuple[UUID]]:
    return sa.select(lots.c.id).where(lots.c.id == lot_id, lots.c.status == status).limit(5)


def test_the_same_shape_gives_the_same_sql_with_each_use_s_values() -> None:
    first, second = UUID(int=1), UUID(int=2)
    sql, args = compile_statement(_lot(first, "open"))
    again, other_args = compile_statement(_lot(second, "accepted"))
    assert again == sql
    assert "$1" in sql and "$3" in sql
    assert args == [first, "open", 5]
    assert other_args == [second, "accepted", 5]


def test_a_different_shape_compiles_to_its_own_sql() -> None:
    sql, _ = compile_statement(_lot(UUID(int=1), "open"))
    without_status, args = compile_statement(sa.select(lots.c.id).where(lots.c.id == UUID(int=3)))
    assert without_status != sql
    assert args == [UUID(int=3)]


@pytest.mark.parametrize("statuses", [["open"], ["open", "accepted", "rejected"], ["held", "open"]])
def test_an_in_list_gets_one_placeholder_a_value(statuses: list[str]) -> None:
    sql, args = compile_statement(sa.select(lots.c.id).where(lots.c.status.in_(statuses), lots.c.units > 7))
    in_sql_order = [args[int(n) - 1] for n in re.findall(r"\$(\d+)", sql)]
    assert in_sql_order == [*statuses, 7]
    assert len(args) == len(statuses) + 1


def test_inserts_and_updates_carry_their_values() -> None:
    sql, args = compile_statement(sa.insert(lots).values(id=UUID(int=4), status="open", units=10))
    assert sql.startswith("INSERT INTO lots") and args == [UUID(int=4), "open", 10]
    _, args = compile_statement(sa.insert(lots).values(id=UUID(int=5), status="held", units=2))
    assert args == [UUID(int=5), "held", 2]
    _, args = compile_statement(sa.update(lots).where(lots.c.id == UUID(int=5)).values(units=3))
    assert args == [3, UUID(int=5)]
