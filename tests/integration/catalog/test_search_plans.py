"""How PostgreSQL runs a search, on a catalog as it stands while products are being listed: analysed, but not
yet vacuumed, so the posting lists' index cannot be read without the table. Words in a sixth of the catalog are
still read from their lists up to a page, never by reading every product."""

from __future__ import annotations

import asyncpg
import pytest

from services.catalog.read.postings import backfill_sql
from services.catalog.read.projections import CATALOG
from services.catalog.read.search import SEARCH_SETTINGS, ProductSearch, search_statement
from shared.sql import compile_statement

pytestmark = pytest.mark.integration

GOODS = ("rattan basket", "teak chair", "arabica coffee", "cardamom pods", "batik cloth", "cashew nuts")
PRODUCTS = 20_000


async def list_products(connection: asyncpg.Connection, count: int) -> None:
    """``count`` products of an aggregator of six goods, each good in a sixth of them, then their lists."""
    await connection.execute(
        """
        INSERT INTO catalog.products (id, msme_id, org, msme_name, msme_status, province, city, sku, name,
            description, hs_code, category, unit, moq, price_tiers, currency, lead_time_days, standards,
            standard_refs, origin_plots, listed_at, updated_at, version)
        SELECT gen_random_uuid(), gen_random_uuid(), 'org-' || n % 500, 'Usaha ' || n % 500, 'active', 'Jawa Timur',
            'Surabaya', 'SKU-' || n, ($1::text[])[1 + n % 6] || ' ' || n % 10, ($1::text[])[1 + n % 6] || ' made in
            Surabaya', '460212', 'homeware', 'PCE', 50, '[]', 'USD', 30, '{}', '{}', '{}', now(), now(), 1
        FROM generate_series(1, $2::int) AS n
        """,
        list(GOODS),
        count,
    )
    for statement in backfill_sql(CATALOG.live_tables()):
        await connection.execute(statement)


async def test_two_common_words_are_read_from_their_lists_not_from_every_product(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as connection:
        await list_products(connection, PRODUCTS)
        await connection.execute("ANALYZE catalog.products, catalog.product_postings")  # and no VACUUM yet
        await connection.execute(SEARCH_SETTINGS)
        text, args = compile_statement(search_statement(ProductSearch(text="rattan basket", limit=20)))
        plan = "\n".join(row[0] for row in await connection.fetch(f"EXPLAIN {text}", *args))
        found = await connection.fetch(text, *args)
        baskets = await connection.fetch(
            "SELECT id FROM catalog.products WHERE search @@ to_tsquery('simple', 'rattan:* & basket:*') "
            "ORDER BY id LIMIT 21"
        )

    assert "Seq Scan on products" not in plan, plan
    assert "product_postings" in plan
    assert [row["id"] for row in found] == [row["id"] for row in baskets]
