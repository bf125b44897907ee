"""Posting lists: the products a search term or a certification key lists, in product id order.

A search joins the lists its filters name and reads matches already in the order it pages in, so it stops
after a page however many products match. Each word of a product's ``search`` text is posted under its first
three characters and, when it has six or more, under its first six too; a word shorter than three is posted
whole. Any query word then names one list (``term_of``) holding every product with a word that starts with
it; the ``tsvector`` confirms the match on the few rows a page reads.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import insert

from shared.eventstore import Connection
from shared.projection import Tables
from shared.sql import execute

SHORT = 3
LONG = 6

_dialect = postgresql.dialect()  # type: ignore[no-untyped-call]


def term_of(word: str) -> sa.ColumnElement[str]:
    """The list a query word's matches are posted under, lowercased by PostgreSQL as the ``tsvector`` is."""
    lowered = sa.func.lower(sa.literal(word, sa.Text))
    length = sa.func.length(lowered)
    return sa.case(
        (length < SHORT, lowered),
        (length < LONG, sa.func.left(lowered, SHORT)),
        else_=sa.func.left(lowered, LONG),
    )


def _post_terms(tables: Tables, which: sa.ColumnElement[bool]) -> sa.Insert:
    listed, terms = tables["products"], tables["product_terms"]
    word = sa.func.unnest(sa.func.tsvector_to_array(listed.c.search)).table_valued("lexeme").render_derived("word")
    length = sa.func.length(word.c.lexeme)
    short = sa.case((length < SHORT, word.c.lexeme), else_=sa.func.left(word.c.lexeme, SHORT))
    posted = sa.union(
        sa.select(short, listed.c.id).select_from(listed, word).where(which),
        sa.select(sa.func.left(word.c.lexeme, LONG), listed.c.id)
        .select_from(listed, word)
        .where(which, length >= LONG),
    )
    return insert(terms).from_select(["term", "product_id"], posted)


def _post_certifications(tables: Tables, which: sa.ColumnElement[bool]) -> sa.Insert:
    listed, held, posted = tables["products"], tables["certifications"], tables["product_certifications"]
    rows = (
        sa.select(held.c.key, listed.c.id, held.c.id, held.c.valid_from, held.c.valid_until)
        .select_from(listed.join(held, held.c.msme_id == listed.c.msme_id))
        .where(which)
    )
    columns = ["key", "product_id", "certification_id", "valid_from", "valid_until"]
    return insert(posted).from_select(columns, rows).on_conflict_do_nothing()


async def repost_terms(connection: Connection, tables: Tables, which: sa.ColumnElement[bool]) -> None:
    """Post again the search terms of the products ``which`` selects, after their text changed."""
    listed, terms = tables["products"], tables["product_terms"]
    await execute(connection, terms.delete().where(terms.c.product_id.in_(sa.select(listed.c.id).where(which))))
    await execute(connection, _post_terms(tables, which))


async def post_certifications(connection: Connection, tables: Tables, which: sa.ColumnElement[bool]) -> None:
    """Post the certifications of the product–certification pairs ``which`` selects (a new product or a new
    certification); certifications are never changed or withdrawn, their dates decide whether they count."""
    await execute(connection, _post_certifications(tables, which))


def backfill_sql(tables: Tables) -> list[str]:
    """Post every product's terms and certifications (for lists added to an existing catalog)."""
    statements = (_post_terms(tables, sa.true()), _post_certifications(tables, sa.true()))
    return [
        *(str(s.compile(dialect=_dialect, compile_kwargs={"literal_binds": True})) for s in statements),
        *(f"ANALYZE {tables[name].schema}.{tables[name].name}" for name in ("product_terms", "product_certifications")),
    ]
