"""Product search over the read model: a search's parameters checked, combinable filters, stable order by product
id, cursor pagination.

The API and ``bench/catalog_search.py`` both build their SQL here, so the benchmark times what clients get.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

import asyncpg
import msgspec
import sqlalchemy as sa

from services.catalog.domain.msme import CERTIFICATION_NAMES
from services.catalog.domain.rules import (
    canonical_province,
    certification_key,
    normalise_hs_code,
)
from services.catalog.read.postings import SHORT, key, word_key
from services.catalog.read.tables import capacity, product_certifications, product_postings, products
from shared.eventstore import Connection
from shared.kernel.digits import is_digits
from shared.kernel.errors import FieldError, InvalidInput
from shared.kernel.geography import city_refusal, find_city, province_refusal
from shared.kernel.months import is_month, months_apart, next_month
from shared.pages import BY_ID
from shared.sql import fetch

MAX_WORDS = 8
# Letters and digits: PostgreSQL's text parser splits words at an underscore too.
_WORD = re.compile(r"[^\W_]+")

# How many products a filter's list holds decides the best plan, so a search is always planned for its own
# values, never with a cached generic plan; and a search reading a page needs no parallel workers. The settings
# last for the session; asyncpg's pool resets them (RESET ALL) when the connection goes back.
SEARCH_SETTINGS = "SET plan_cache_mode = force_custom_plan; SET max_parallel_workers_per_gather = 0"

SUMMARY_COLUMNS = (
    products.c.id,
    products.c.msme_id,
    products.c.msme_name,
    products.c.province,
    products.c.city,
    products.c.sku,
    products.c.name,
    products.c.hs_code,
    products.c.category,
    products.c.unit,
    products.c.moq,
    products.c.price_tiers,
    products.c.currency,
    products.c.lead_time_days,
    products.c.standard_refs,
    products.c.eudr_commodity,
)


@dataclass(frozen=True)
class ProductSearch:
    """What a buyer or aggregator is looking for; every filter is optional and they all combine (AND)."""

    hs_prefix: str | None = None
    category: str | None = None
    province: str | None = None
    city: str | None = None
    certifications: tuple[str, ...] = ()
    certified_on: date | None = None
    standard: str | None = None
    msme_id: UUID | None = None
    min_available: int | None = None
    available_from: str | None = None
    available_to: str | None = None
    text: str | None = None
    include_suspended: bool = False
    after: UUID | None = None
    limit: int = 50


class SearchQuery(msgspec.Struct, frozen=True, kw_only=True):
    """The raw query parameters of a product search, before they are checked and normalised."""

    hs: str | None
    category: str | None
    province: str | None
    city: str | None
    certification: list[str]
    certified_on: date | None
    standard: UUID | None
    standard_version: int | None
    msme_id: UUID | None
    min_available: int | None
    available_from: str | None
    available_to: str | None
    q: str | None
    include_suspended: bool
    cursor: str | None
    limit: int


def product_search(query: SearchQuery, *, today: date, this_month: str) -> ProductSearch:
    """Normalise a search (``Solo`` → ``Surakarta``, ``46.02`` → ``4602``) or name every bad parameter."""
    errors: list[FieldError] = []
    hs = normalise_hs_code(query.hs) if query.hs is not None else None
    if hs is not None and not (is_digits(hs) and 2 <= len(hs) <= 10):
        errors.append(FieldError("hs", "must be an HS code prefix of 2 to 10 digits"))
    province = canonical_province(query.province) if query.province is not None else None
    if query.province is not None and province is None:
        errors.append(FieldError("province", province_refusal()))
    city = find_city(query.city) if query.city is not None else None
    if query.city is not None and city is None:
        errors.append(FieldError("city", city_refusal(query.city)))
    if query.standard_version is not None and query.standard is None:
        errors.append(FieldError("standard_version", "needs standard"))
    standard = str(query.standard) if query.standard else None
    if standard and query.standard_version is not None:
        standard = f"{standard}@{query.standard_version}"
    first = query.available_from or next_month(this_month)
    last = query.available_to or first
    for name, month in (("available_from", query.available_from), ("available_to", query.available_to)):
        if month is not None and not is_month(month):
            errors.append(FieldError(name, "must be a month, YYYY-MM"))
    if not errors and months_apart(first, last) < 0:
        errors.append(FieldError("available_to", "must not be before available_from"))
    if query.q is not None and text_query(query.q) is None:
        errors.append(FieldError("q", "needs at least one word"))
    after_id: UUID | None = None
    try:
        after = BY_ID.decode(query.cursor)
        after_id = after[0] if after else None
    except InvalidInput as error:
        errors.extend(error.errors)
    if errors:
        raise InvalidInput(errors)
    return ProductSearch(
        hs_prefix=hs,
        category=query.category.lower() if query.category else None,
        province=province,
        city=city.name if city else None,
        certifications=tuple(query.certification),
        certified_on=query.certified_on or today,
        standard=standard,
        msme_id=query.msme_id,
        min_available=query.min_available,
        available_from=first,
        available_to=last,
        text=query.q,
        include_suspended=query.include_suspended,
        after=after_id,
        limit=query.limit,
    )


def query_words(text: str) -> list[str]:
    """The words of a text query, lowercased as the products' text is, each once."""
    return list(dict.fromkeys(w.lower() for w in _WORD.findall(text)))[:MAX_WORDS]


def text_query(text: str) -> str | None:
    """A ``tsquery`` of the words in ``text``, each matching as a prefix (``"rattan bask"`` → ``rattan:* & bask:*``)
    except words shorter than three characters, which match whole (``"40 cm"`` must not mean "anything with c")."""
    words = query_words(text)
    terms = [f"{w}:*" if len(w) >= SHORT else w for w in words]
    return " & ".join(terms) if terms else None


def _certified(kind: str, day: date | None, after: UUID | None) -> list[sa.ColumnElement[bool]]:
    """The product's MSME holds a certification of ``kind`` valid on ``day`` (the database's today if None):
    it is in the kind's list, and the days it is certified for, read for that product alone, include ``day``."""
    held_kind = kind if kind in CERTIFICATION_NAMES else certification_key("other", kind)
    on: sa.ColumnElement[date] = sa.literal(day, sa.Date) if day is not None else sa.func.current_date()
    held = product_certifications
    days = sa.select(held.c.valid).where(held.c.product_id == products.c.id, held.c.key == held_kind)
    return [_listed(key("certification", held_kind), after), days.scalar_subquery().op("@>")(on)]


def _listed(filed_under: str, after: UUID | None) -> sa.ColumnElement[bool]:
    """The product is in the posting list of a key (read from past ``after``, the page's cursor)."""
    posted = product_postings
    start = [] if after is None else [posted.c.product_id > after]
    return products.c.id.in_(sa.select(posted.c.product_id).where(posted.c.key == filed_under, *start))


def _text_matches(text: str, after: UUID | None) -> list[sa.ColumnElement[bool]]:
    """Products with a word starting with each query word: their posting lists, confirmed by the ``tsvector``.

    The confirmation calls ``ts_match_vq``, the function behind ``@@``, rather than the operator. PostgreSQL
    guessed a prefix match (``rattan:*``) at 2 % of the rows when the word was in a sixth of them, and two such
    words at 0.04 %. Thinking few rows would pass, it read the whole products table to confirm them (2.7 s on
    1.7 M products) rather than merge the words' lists up to a page. A function is guessed at a third of the
    rows, which leaves the lists to lead."""
    query = text_query(text)
    if query is None:
        return []
    tsquery = sa.func.to_tsquery(sa.literal_column("'simple'::regconfig"), query)
    listed = [_listed(word_key(word), after) for word in query_words(text)]
    return [*listed, sa.func.ts_match_vq(products.c.search, tsquery, type_=sa.Boolean)]


def available_units(first: str, last: str) -> sa.ScalarSelect[int]:
    """Units still free in the months ``first`` to ``last``: declared minus committed, never negative."""
    free = sa.func.greatest(capacity.c.declared - capacity.c.committed, 0)
    return (
        sa.select(sa.func.coalesce(sa.func.sum(free), 0))
        .where(capacity.c.product_id == products.c.id, capacity.c.month.between(first, last))
        .scalar_subquery()
    )


def hs_prefix_conditions(
    prefix: str, after: UUID | None = None, province: str | None = None
) -> list[sa.ColumnElement[bool]]:
    """The list of the longest of HS chapter, heading and subheading the prefix covers (within ``province`` if
    given), then the rest by LIKE."""
    length = next((n for n in (6, 4, 2) if len(prefix) >= n), 0)
    level = prefix[:length]
    filed = key("hs", level) if province is None else key("hs-province", f"{level}/{province}")
    conditions = [_listed(filed, after)] if length else []
    if len(prefix) > length:
        conditions.append(products.c.hs_code.like(f"{prefix}%"))
    return conditions


def search_statement(search: ProductSearch) -> sa.Select[Any]:
    """The page of products matching ``search``, ordered by id, one row more than the limit."""
    conditions: list[sa.ColumnElement[bool]] = []
    after = search.after
    if not search.include_suspended:
        conditions.append(products.c.msme_status == "active")
    province = search.province  # read with the HS level or the category when there is one
    if search.hs_prefix:
        within = province if len(search.hs_prefix) >= 2 else None
        conditions.extend(hs_prefix_conditions(search.hs_prefix, after, within))
        province = province if within is None else None
    if search.category:
        category = search.category
        filed = key("category", category) if province is None else key("category-province", f"{category}/{province}")
        conditions.append(_listed(filed, after))
        province = None
    if province:
        conditions.append(_listed(key("province", province), after))
    if search.city:
        conditions.append(_listed(key("city", search.city), after))
    if search.msme_id:
        conditions.append(products.c.msme_id == search.msme_id)
    if search.standard:
        conditions.append(_listed(key("standard", search.standard), after))
    for kind in search.certifications:
        conditions.extend(_certified(kind, search.certified_on, after))
    if search.text:
        conditions.extend(_text_matches(search.text, after))
    if after is not None:
        conditions.append(products.c.id > after)
    columns: list[sa.ColumnElement[Any]] = list(SUMMARY_COLUMNS)
    if search.min_available is not None and search.available_from and search.available_to:
        available = available_units(search.available_from, search.available_to)
        conditions.append(available >= search.min_available)
        columns.append(available.label("available"))
    return sa.select(*columns).where(*conditions).order_by(products.c.id).limit(search.limit + 1)


def lookup_statement(product_id: UUID) -> sa.Select[Any]:
    """A product by primary key: what ``GET /products/{id}`` reads, and the benchmark's baseline."""
    return sa.select(products).where(products.c.id == product_id)


async def find_products(connection: Connection, search: ProductSearch) -> list[asyncpg.Record]:
    """Run a search on ``connection``: the page of matches and, if there are more, one row beyond it."""
    await connection.execute(SEARCH_SETTINGS)
    return await fetch(connection, search_statement(search))
