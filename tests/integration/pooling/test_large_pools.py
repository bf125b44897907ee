"""A pool's totals add up many order lines, each within its own bounds; the read model keeps any such sum, also in
a database migrated from before the totals were bigint."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from services.pooling.read.tables import MIGRATIONS, WIDE_TOTALS
from shared.bounds import MAX_INTEGER, MAX_QUANTITY
from shared.migrations import migrate
from tests.conftest import Servers
from tests.integration.pooling.harness import Pooling, eventually, running_pooling

pytestmark = pytest.mark.integration


@pytest.fixture
async def pooling(database_url: str, servers: Servers, nats_prefix: str, pool: asyncpg.Pool) -> AsyncIterator[Pooling]:
    async with running_pooling(database_url, servers.nats_url, nats_prefix, pool) as running:
        yield running


async def test_a_pool_whose_demand_passes_a_postgresql_integer_is_listed_with_it(pooling: Pooling) -> None:
    opened = await pooling.open_pool()
    lines = [MAX_QUANTITY] * (MAX_INTEGER // MAX_QUANTITY + 1)
    await pooling.confirm_order(lines)
    await pooling.pool_where(opened["id"], lambda p: p["demand"] == sum(lines))

    async def listed() -> int | None:
        page = await pooling.get("/v1/pools")
        (summary,) = [p for p in page["items"] if p["id"] == opened["id"]]
        return summary["demand"] if summary["demand"] == sum(lines) else None

    assert await eventually(listed, timeout=30) > MAX_INTEGER
    # the projector is not stuck behind that pool: a pool opened after it is listed too
    later = await pooling.open_pool(name="Rattan baskets, second pool")
    assert later["id"] in [p["id"] for p in (await pooling.get("/v1/pools"))["items"]]


async def test_an_older_pooling_database_widens_its_totals_and_keeps_its_rows(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as connection:
        # pooling as it was: integer totals, the widening not applied yet, one pool already projected
        for table, columns in WIDE_TOTALS:
            changes = ", ".join(f"ALTER COLUMN {column} TYPE integer" for column in columns)
            await connection.execute(f"ALTER TABLE pooling.{table} {changes}")
        await connection.execute("DELETE FROM pooling.migrations WHERE name = '0002_bigint_totals'")
        await connection.execute(
            "INSERT INTO pooling.pools (pool_id, aggregator_org, name, hs_code, standard_id, standard_version, unit,"
            " currency, consolidation_point, status, demand, accepted, passed, shipped, opened_at, version)"
            " VALUES (gen_random_uuid(), 'o', 'n', '460219', gen_random_uuid(), 1, 'PCE', 'USD', 'IDSRG', 'open',"
            " 1000, 600, 0, 0, now(), 2)"
        )

        assert await migrate(connection, "pooling", MIGRATIONS) == ["0002_bigint_totals"]

        kinds = await connection.fetch(
            "SELECT table_name, column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = 'pooling' AND table_name = ANY($1::text[])",
            [table for table, _ in WIDE_TOTALS],
        )
        wide = {(table, column) for table, columns in WIDE_TOTALS for column in columns}
        assert {(r["table_name"], r["column_name"]) for r in kinds if r["data_type"] == "bigint"} == wide
        assert await connection.fetchval("SELECT demand FROM pooling.pools") == 1000
        await connection.execute("UPDATE pooling.pools SET demand = $1", MAX_INTEGER + 1)
