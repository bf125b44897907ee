"""A catalog that ran before the posting lists existed gets them filled when it migrates."""

from __future__ import annotations

import asyncpg
import pytest

from services.catalog.read.tables import MIGRATIONS
from shared.migrations import migrate
from tests.integration.catalog.conftest import BUYER, WEAVERS, Catalog

pytestmark = pytest.mark.integration


async def test_posting_lists_are_filled_for_products_listed_before_they_existed(catalog: Catalog) -> None:
    msme = await catalog.register(WEAVERS)
    certificate = {"number": "H-1", "issuer": "BPJPH", "valid_from": "2025-01-01", "valid_until": "2027-01-01"}
    await catalog.client.post(
        f"/v1/msmes/{msme['id']}/certifications", json={**certificate, "kind": "halal"}, headers=WEAVERS
    )
    product = await catalog.list_product(msme["id"], name="Seagrass laundry hamper")
    await catalog.client.get(f"/v1/products/{product['id']}?wait_for_position={product['position']}", headers=BUYER)

    connection = await asyncpg.connect(catalog.runtime.settings.database_url)
    try:
        # The catalog as it was: GIN indexes and certification keys on products, no posting lists filled.
        await connection.execute("ALTER TABLE catalog.products ADD COLUMN certification_keys text[] DEFAULT '{}'")
        await connection.execute("CREATE INDEX products_search ON catalog.products USING gin (search)")
        await connection.execute("TRUNCATE catalog.product_postings, catalog.product_certifications")
        await connection.execute("DELETE FROM catalog.migrations WHERE name = '0002_posting_lists'")
        before = await catalog.client.get("/v1/products?q=seagrass", headers=BUYER)
        assert before.json()["items"] == []

        assert await migrate(connection, "catalog", MIGRATIONS) == ["0002_posting_lists"]

        columns = await connection.fetchval(
            "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'catalog' AND table_name = 'products'"
            " AND column_name = 'certification_keys'"
        )
        index = await connection.fetchval("SELECT to_regclass('catalog.products_search')")
        assert columns == 0 and index is None
    finally:
        await connection.close()
    for query in ("q=seagra", "q=hamper&certification=halal"):
        found = await catalog.client.get(f"/v1/products?{query}", headers=BUYER)
        assert [item["id"] for item in found.json()["items"]] == [product["id"]], query


async def test_words_are_filed_under_their_first_four_characters_when_a_catalog_migrates(catalog: Catalog) -> None:
    msme = await catalog.register(WEAVERS)
    towel = await catalog.list_product(msme["id"], name="Cotton bath towel", sku="CT-1")
    batik = await catalog.list_product(msme["id"], name="Batik sarong", sku="BS-1")
    await catalog.client.get(f"/v1/products/{batik['id']}?wait_for_position={batik['position']}", headers=BUYER)

    connection = await asyncpg.connect(catalog.runtime.settings.database_url)
    try:
        # The catalog as it was: words filed under three and six characters only.
        await connection.execute("DELETE FROM catalog.product_postings WHERE key ~ '^word:[^:]{4}$'")
        await connection.execute("DELETE FROM catalog.migrations WHERE name = '0005_four_character_word_lists'")
        before = await catalog.client.get("/v1/products?q=bath", headers=BUYER)
        assert before.json()["items"] == []

        assert await migrate(connection, "catalog", MIGRATIONS) == ["0005_four_character_word_lists"]
        filed = await connection.fetch("SELECT product_id FROM catalog.product_postings WHERE key = 'word:bath'")
    finally:
        await connection.close()
    assert [str(row["product_id"]) for row in filed] == [towel["id"]]  # "batik" is not filed under "bath"
    for query, expected in (("bath", towel), ("batik", batik), ("bat", None)):
        found = await catalog.client.get(f"/v1/products?q={query}", headers=BUYER)
        ids = [item["id"] for item in found.json()["items"]]
        assert ids == ([expected["id"]] if expected else sorted([towel["id"], batik["id"]])), query
