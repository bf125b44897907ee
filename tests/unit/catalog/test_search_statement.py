"""How searches become SQL: words become prefix queries, HS prefixes use the chapter/heading/subheading columns."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import pytest

from services.catalog.read.postings import word_key
from services.catalog.read.search import ProductSearch, hs_prefix_conditions, search_statement, text_query
from shared.sql import compile_statement

pytestmark = pytest.mark.unit


def test_words_match_as_prefixes_except_short_ones() -> None:
    assert text_query("Rattan bask rattan") == "rattan:* & bask:*"
    assert text_query("basket 40 cm") == "basket:* & 40 & cm"
    assert text_query("kopi-luwak; (grade 1)!") == "kopi:* & luwak:* & grade:* & 1"
    assert text_query("!!! ...") is None
    assert text_query(" ".join(f"w{i}xx" for i in range(20))) == " & ".join(f"w{i}xx:*" for i in range(8))


@pytest.mark.parametrize(
    "prefix, key, like",
    [
        ("46", "hs:46", None),
        ("460", "hs:46", "catalog.products.hs_code LIKE '460%'"),
        ("4602", "hs:4602", None),
        ("460212", "hs:460212", None),
        ("46021210", "hs:460212", "catalog.products.hs_code LIKE '46021210%'"),
    ],
)
def test_an_hs_prefix_reads_the_list_of_the_longest_level_it_covers(prefix: str, key: str, like: str | None) -> None:
    rendered = [str(c.compile(compile_kwargs={"literal_binds": True})) for c in hs_prefix_conditions(prefix)]
    assert f"catalog.product_postings.key = '{key}'" in rendered[0]
    assert rendered[1:] == ([like] if like else [])


def test_filters_combine_and_pages_are_cut_in_id_order() -> None:
    search = ProductSearch(
        category="baskets",
        province="Jawa Barat",
        certifications=("halal",),
        certified_on=date(2026, 11, 2),
        min_available=100,
        available_from="2026-12",
        available_to="2027-02",
        text="rattan",
        after=UUID("01890000-0000-7000-8000-000000000001"),
        limit=20,
    )
    sql, args = compile_statement(search_statement(search))
    assert "ORDER BY catalog.products.id" in sql and sql.rstrip().endswith(f"LIMIT ${len(args)}::INTEGER")
    assert args[-1] == 21  # one more than the page, to know whether there is a next one
    for needle in (
        "msme_status",
        "category",
        "province",
        "product_certifications",
        "product_postings",
        "ts_match_vq",
        "sum",
        "id >",
    ):
        assert needle in sql, needle
    assert "msme_status" not in compile_statement(search_statement(ProductSearch(include_suspended=True)))[0]


def test_a_query_word_names_the_posting_list_of_its_first_three_four_or_six_characters() -> None:
    words = ("xl", "bas", "bask", "baske", "basket", "baskets", "seagrass")
    keys = ["xl", "bas", "bask", "bask", "basket", "basket", "seagra"]
    assert [word_key(w) for w in words] == [f"word:{k}" for k in keys]
