"""Posting lists: the products filed under a search key, and the certifications of each product, in id order.

A search joins the lists its filters name. Every list is read in product id order from an index alone, so a
search reads matches already in the order it pages in, fetches only the products of its page and stops,
however many products match and however the filters combine.

Keys (``product_postings``):
- ``word:<t>``: each word of a product's ``search`` text under its first three, four and six characters, as
  many of them as it has; a word shorter than three whole. Any query word then names one list (``word_key``)
  holding every product with a word that starts with it, and for a word of three, four or six characters
  nothing else: a short word such as "bath" is not read from the list of "bat", where "batik" would fill it
  with products the ``tsvector``, which confirms the match on the rows a page reads, then turns away.
- ``category:<c>``, ``province:<p>``, ``city:<c>``, ``hs:<2, 4 and 6 digits>`` and ``standard:<id>`` (and
  ``standard:<id>@<version>``): exact; ``hs-province:<digits>/<p>`` and ``category-province:<c>/<p>`` for an HS
  level or a category within a province.
- ``certification:<kind>``: the MSME holds or held one; ``product_certifications`` holds the days it covers,
  which a search checks on the rows a page reads.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import ARRAY, insert

from events.catalog import StandardRef
from shared.eventstore import Connection
from shared.projection import Tables
from shared.sql import execute, fetch

# The prefix lengths a word is filed under; a word shorter than the first is filed whole.
PREFIXES = (3, 4, 6)
SHORT = PREFIXES[0]

_dialect = postgresql.dialect()  # type: ignore[no-untyped-call]


def word_key(word: str) -> str:
    """The list a (lowercased) query word's matches are posted under: its longest prefix a list is kept for."""
    length = max((n for n in PREFIXES if n <= len(word)), default=len(word))
    return key("word", word[:length])


def key(kind: str, value: str) -> str:
    """The key of ``value`` in the lists of one kind: ``category``, ``province``, ``city``, ``hs`` (a chapter,
    heading or subheading), ``hs-province`` and ``category-province`` (``<hs or category>/<province>``),
    ``standard`` (an id, or ``<id>@<version>``) or ``certification`` (a kind of certification the MSME holds or
    held; its days say whether it counts)."""
    return f"{kind}:{value}"


def standard_keys(standards: list[StandardRef]) -> list[str]:
    """Array entries a search filters on: ``<standard_id>`` (any version) and ``<standard_id>@<version>``."""
    keys: list[str] = []
    for standard in standards:
        keys += [str(standard.standard_id), f"{standard.standard_id}@{standard.version}"]
    return keys


def _held(tables: Tables) -> sa.Join:
    """Each product with each certification its MSME holds or held that covers it (a certificate with no scope
    covers all of its MSME's products)."""
    listed, held = tables["products"], tables["certifications"]
    prefix = sa.func.unnest(held.c.scope_hs_prefixes).table_valued("prefix").render_derived("scope")
    starts = sa.func.starts_with(listed.c.hs_code, prefix.c.prefix)
    by_prefix = sa.exists(sa.select(1).select_from(prefix).where(starts))
    covers = sa.or_(
        sa.and_(held.c.scope_product_ids.is_(None), held.c.scope_hs_prefixes.is_(None)),
        listed.c.id == sa.any_(held.c.scope_product_ids),
        by_prefix,
    )
    return listed.join(held, sa.and_(held.c.msme_id == listed.c.msme_id, covers))


def _kinds_held(tables: Tables, which: sa.ColumnElement[bool]) -> sa.Select[tuple[str, object]]:
    listed, held = tables["products"], tables["certifications"]
    return sa.select(key("certification", "") + held.c.key, listed.c.id).select_from(_held(tables)).where(which)


def _word_keys(tables: Tables, which: sa.ColumnElement[bool]) -> sa.Select[tuple[str, object]]:
    """The (key, product) pairs of the words of the products ``which`` selects."""
    listed = tables["products"]
    word = sa.func.unnest(sa.func.tsvector_to_array(listed.c.search)).table_valued("lexeme").render_derived("word")
    length = sa.func.length(word.c.lexeme)
    lengths = sa.literal(list(PREFIXES), ARRAY(sa.Integer))
    prefix = sa.func.unnest(lengths).table_valued("length").render_derived("prefix")
    # A word shorter than the shortest prefix is its own (whole) prefix.
    return (
        sa.select(key("word", "") + sa.func.left(word.c.lexeme, prefix.c.length), listed.c.id)
        .select_from(listed, word, prefix)
        .where(which, sa.or_(length >= prefix.c.length, prefix.c.length == SHORT))
    )


def _keys(tables: Tables, which: sa.ColumnElement[bool]) -> sa.CompoundSelect[tuple[str, object]]:
    """Every (key, product) pair of the products ``which`` selects."""
    listed = tables["products"]
    standard = sa.func.unnest(listed.c.standards).table_valued("ref").render_derived("standard")

    def exact(kind: str, value: sa.ColumnElement[str]) -> sa.Select[tuple[str, object]]:
        return sa.select(sa.literal(key(kind, "")) + value, listed.c.id).where(which)

    return sa.union(
        _word_keys(tables, which),
        exact("category", listed.c.category),
        exact("province", listed.c.province),
        exact("city", listed.c.city),
        exact("hs", listed.c.hs_chapter),
        exact("hs", listed.c.hs_heading),
        exact("hs", listed.c.hs_subheading),
        # A province narrows an HS level or a category in one list, as buyers often ask for both.
        exact("hs-province", listed.c.hs_chapter + "/" + listed.c.province),
        exact("hs-province", listed.c.hs_heading + "/" + listed.c.province),
        exact("hs-province", listed.c.hs_subheading + "/" + listed.c.province),
        exact("category-province", listed.c.category + "/" + listed.c.province),
        sa.select(key("standard", "") + standard.c.ref, listed.c.id).select_from(listed, standard).where(which),
        _kinds_held(tables, which),
    )


def _post_keys(tables: Tables, which: sa.ColumnElement[bool]) -> sa.Insert:
    return insert(tables["product_postings"]).from_select(["key", "product_id"], _keys(tables, which))


def _post_certifications(tables: Tables, which: sa.ColumnElement[bool]) -> sa.Insert:
    listed, held, posted = tables["products"], tables["certifications"], tables["product_certifications"]
    days = sa.func.range_agg(sa.func.daterange(held.c.valid_from, held.c.valid_until, "[]"))
    rows = (
        sa.select(held.c.key, listed.c.id, days)
        .select_from(_held(tables))
        .where(which)
        .group_by(held.c.key, listed.c.id)
    )
    statement = insert(posted).from_select(["key", "product_id", "valid"], rows)
    return statement.on_conflict_do_update(
        index_elements=[posted.c.key, posted.c.product_id], set_={"valid": posted.c.valid + statement.excluded.valid}
    )


async def repost(connection: Connection, tables: Tables, which: sa.ColumnElement[bool]) -> None:
    """File again the products ``which`` selects under their keys, after they were listed or changed."""
    listed, postings = tables["products"], tables["product_postings"]
    chosen = sa.select(listed.c.id).where(which)
    await execute(connection, postings.delete().where(postings.c.product_id.in_(chosen)))
    await post(connection, tables, which)


async def unpost(connection: Connection, tables: Tables, which: sa.ColumnElement[bool]) -> None:
    """Take the products ``which`` selects off the lists they are filed under, before their rows change.

    A product is filed under exactly the keys its row and its MSME's certifications give it now (each change to
    what the keys derive from files it again), so its postings are deleted by primary key, those keys, instead
    of by product id, which no index leads with: for a stretch's many products that delete reads every posting,
    where probing the primary key costs the same for any number of postings (the planner still hashes the
    whole list while a few thousand probes look dearer to it than reading it).
    """
    rows = await fetch(connection, _keys(tables, which))
    postings = tables["product_postings"]
    await connection.execute(
        f"DELETE FROM {postings.fullname} p USING unnest($1::text[], $2::uuid[]) AS k(key, product_id) "
        "WHERE p.key = k.key AND p.product_id = k.product_id",
        [row[0] for row in rows],
        [row[1] for row in rows],
    )


async def post(connection: Connection, tables: Tables, which: sa.ColumnElement[bool]) -> None:
    """File the products ``which`` selects, none of them filed yet (just listed), under their keys."""
    await execute(connection, _post_keys(tables, which))


async def post_certifications(connection: Connection, tables: Tables, which: sa.ColumnElement[bool]) -> None:
    """File the products of the new certifications ``which`` selects under their kinds, and add their days."""
    kinds = _kinds_held(tables, which).distinct()
    posted = insert(tables["product_postings"]).from_select(["key", "product_id"], kinds)
    await execute(connection, posted.on_conflict_do_nothing())
    await add_certified_days(connection, tables, which)


async def add_certified_days(connection: Connection, tables: Tables, which: sa.ColumnElement[bool]) -> None:
    """Add the days of the certifications ``which`` selects to what each of their products is certified for;
    certifications are never changed or withdrawn, their dates decide whether they count."""
    await execute(connection, _post_certifications(tables, which))


def _script(statements: Sequence[sa.Insert], filled: Sequence[sa.Table]) -> list[str]:
    """SQL a migration runs: ``statements`` with their values written in, then ANALYZE of the tables they fill."""
    return [
        *(str(s.compile(dialect=_dialect, compile_kwargs={"literal_binds": True})) for s in statements),
        *(f"ANALYZE {table.schema}.{table.name}" for table in filled),
    ]


def word_backfill_sql(tables: Tables) -> list[str]:
    """File every product's words under the prefixes they are not filed under yet (for a prefix length added to
    an existing catalog)."""
    postings = tables["product_postings"]
    statement = insert(postings).from_select(["key", "product_id"], _word_keys(tables, sa.true()))
    return _script([statement.on_conflict_do_nothing()], [postings])


def backfill_sql(tables: Tables) -> list[str]:
    """Post every product's keys and certifications (for lists added to an existing catalog)."""
    statements = (_post_keys(tables, sa.true()), _post_certifications(tables, sa.true()))
    return _script(statements, [tables["product_postings"], tables["product_certifications"]])
