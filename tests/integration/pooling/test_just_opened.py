"""An order line finds a pool of its spec that was opened after the pools read model was last brought up to
date: the ``PoolOpened`` events past the projection's checkpoint."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import asyncpg
import pytest

from events.pooling import CODEC, PoolOpened
from services.pooling.domain.pool import pool_stream
from services.pooling.handlers import _just_opened
from services.pooling.read.projections import POOLING_VIEWS
from services.pooling.use_cases.supply import ConfirmedLine
from shared.eventstore import EventStore
from shared.inbox import HandlerContext
from shared.kernel.ids import new_id
from shared.projection import read_checkpoint, write_checkpoint

pytestmark = pytest.mark.integration

AT = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
STANDARD = new_id()


def opened(hs_code: str, minutes: int) -> PoolOpened:
    return PoolOpened(
        pool_id=new_id(), aggregator_org="nusantara-trading", name="Rattan baskets", hs_code=hs_code,
        standard_id=STANDARD, standard_version=1, unit="PCE", currency="USD", consolidation_point="Semarang",
        opened_by="ana", at=AT + timedelta(minutes=minutes),
    )  # fmt: skip


async def open_pool(store: EventStore, event: PoolOpened, connection: asyncpg.Connection | None = None) -> None:
    await store.append(pool_stream(event.pool_id), "pool", 0, [event], connection=connection)


async def test_a_line_finds_the_pools_of_its_spec_opened_after_the_checkpoint(pool: asyncpg.Pool) -> None:
    store = EventStore(pool, "pooling", CODEC)
    projected = opened("460219", 0)
    await open_pool(store, projected)
    async with pool.acquire() as connection:
        await read_checkpoint(connection, "pooling", POOLING_VIEWS.checkpoint)
        last = (await store.read_all())[-1].global_position
        await write_checkpoint(connection, "pooling", POOLING_VIEWS.checkpoint, last)
    recent, other_spec, own = opened("460219", 1), opened("940360", 2), opened("460219", 3)
    await open_pool(store, recent)
    await open_pool(store, other_spec)
    line = ConfirmedLine(
        order_id=new_id(), line_id=new_id(), aggregator_org="nusantara-trading", buyer_org="rotterdam-home",
        hs_code="460219", standard_id=STANDARD, standard_version=1, unit="PCE", quantity=100,
        required_by=date(2027, 4, 1), confirmed_at=AT,
    )  # fmt: skip
    async with pool.acquire() as connection, connection.transaction():
        await open_pool(store, own, connection)  # the handler's own transaction sees what it appended
        found: list[tuple[datetime, UUID]] = await _just_opened(HandlerContext(connection, store, "orders"), line)
    assert found == [(recent.at, recent.pool_id), (own.at, own.pool_id)]
