"""Pooling's projection applied a batch at a time leaves every table exactly as applying each event in turn does.

One generated history: capacity ledgers declared, committed, released and declared again (several events of one
month in one transaction, and one month committed before anything was declared), with pools opened in between,
is projected event by event into the live tables and in batches (of 3 and of 500 events) into a rebuild's copies;
the two are compared row for row.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime

import asyncpg
import pytest

from events.base import Event
from events.pooling import CODEC, CapacityCommitted, CapacityRecorded, CapacityReleased, PoolOpened
from services.pooling.domain.capacity_ledger import capacity_stream
from services.pooling.domain.pool import pool_stream
from services.pooling.read.projections import POOLING_VIEWS
from shared.eventstore import EventStore, StreamAppend
from shared.kernel.ids import new_id
from shared.migrations import tables_ddl
from shared.projection import Projection
from shared.rebuild import rebuild_tables
from tests.support.projections import project, rows

pytestmark = pytest.mark.integration

AT = datetime(2026, 10, 15, 9, 30, tzinfo=UTC)
MONTHS = ["2026-11", "2026-12", "2027-01"]
BY_EVENT = Projection("pooling-by-event", POOLING_VIEWS.tables, POOLING_VIEWS.apply)


def history(seed: int) -> list[list[StreamAppend]]:
    """Transactions of pooling's events: each ledger and pool stream in its order."""
    rng = random.Random(seed)
    products = [(new_id(), new_id()) for _ in range(5)]
    versions: dict[str, int] = {}
    transactions: list[list[StreamAppend]] = []

    def ledger_event(product_id: object, msme_id: object, month: str) -> Event:
        declared, committed = rng.randrange(0, 900), rng.randrange(0, 600)
        request_id, pool_id = new_id(), new_id()
        kind = rng.choice(["declared", "committed", "released"])
        if kind == "declared":
            return CapacityRecorded(
                product_id=product_id, msme_id=msme_id, month=month, declared=declared, committed=committed,
                overcommitted=max(committed - declared, 0), at=AT,
            )  # fmt: skip
        shape = CapacityCommitted if kind == "committed" else CapacityReleased
        extra = {} if kind == "committed" else {"reason": "capacity_lowered"}
        return shape(
            product_id=product_id, msme_id=msme_id, month=month, units=rng.randrange(1, 50), committed=committed,
            request_id=request_id, pool_id=pool_id, **extra,
        )  # fmt: skip

    for _ in range(300):
        appends: list[StreamAppend] = []
        for _ in range(rng.randrange(1, 4)):
            if rng.random() < 0.15:
                pool_id = new_id()
                opened = PoolOpened(
                    pool_id=pool_id, aggregator_org="cirebon-trading", name=f"Pool {pool_id.hex[:6]}",
                    hs_code="4602.12", standard_id=new_id(), standard_version=1, unit="piece", currency="USD",
                    consolidation_point="Cirebon", opened_by="ana", at=AT,
                )  # fmt: skip
                appends.append(StreamAppend(pool_stream(pool_id), "pool", 0, [opened]))
                continue
            product_id, msme_id = rng.choice(products)
            stream = capacity_stream(product_id, rng.choice(MONTHS))
            if any(a.stream_id == stream for a in appends):
                continue
            month = stream.rsplit(":", 1)[1]
            events = [ledger_event(product_id, msme_id, month) for _ in range(rng.randrange(1, 4))]
            version = versions.get(stream, 0)
            appends.append(StreamAppend(stream, "capacity", version, events))
            versions[stream] = version + len(events)
        transactions.append(appends)
    return transactions


@pytest.mark.parametrize("limit", [3, 500])
async def test_batches_leave_the_rows_applying_each_event_leaves(pool: asyncpg.Pool, limit: int) -> None:
    transactions = history(seed=25)
    kinds = Counter(type(e) for appends in transactions for a in appends for e in a.events)
    assert min(kinds[k] for k in (CapacityRecorded, CapacityCommitted, CapacityReleased, PoolOpened)) > 40, kinds
    store = EventStore(pool, "pooling", CODEC)
    for appends in transactions:
        await store.append_many(appends)
    metadata, batched = rebuild_tables(POOLING_VIEWS)
    async with pool.acquire() as connection:
        for statement in tables_ddl(metadata):
            await connection.execute(statement)

    events = await project(store, BY_EVENT, BY_EVENT.live_tables(), 500)
    assert await project(store, POOLING_VIEWS, batched, limit) == events == sum(kinds.values())

    async with pool.acquire() as connection:
        for name, table in BY_EVENT.live_tables().items():
            assert await rows(connection, batched[name]) == await rows(connection, table), name
        declared = await connection.fetchval(f"SELECT count(*) FROM {batched['capacity'].fullname} WHERE declared > 0")
        months = await connection.fetchval(f"SELECT count(*) FROM {batched['capacity'].fullname}")
    assert months == 15 and declared > 10, (months, declared)
