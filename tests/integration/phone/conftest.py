"""The notifications service alone, on a clock the test moves, with MSMEs its mirrors know and a client of the
phone page (plain HTTP, no browser)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from shared.kernel.clock import ManualClock
from shared.kernel.ids import new_id
from shared.service import load_services
from tests.conftest import Servers
from tests.support.app import serve, settings_for

START = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)


@dataclass
class PhonePage:
    client: AsyncTestClient[Litestar]
    pool: asyncpg.Pool
    clock: ManualClock

    async def msme(self, org: str, name: str = "Rotan Cirebon") -> UUID:
        """An MSME as the mirror of catalog's events holds it."""
        msme_id = new_id()
        await self.pool.execute(
            "INSERT INTO notifications.msmes (msme_id, org, registered_by, name, province, city) "
            "VALUES ($1, $2, NULL, $3, 'Jawa Barat', 'Cirebon')",
            msme_id, org, name,
        )  # fmt: skip
        return msme_id

    async def request(self, msme_id: UUID, quantity: int = 500) -> UUID:
        """A pending allocation request to ``msme_id`` as the mirror of pooling's events holds it."""
        request_id, pool_id, product_id = new_id(), new_id(), new_id()
        await self.pool.execute(
            "INSERT INTO notifications.pools VALUES ($1, 'semarang-trading', 'Rattan baskets', 'Semarang')", pool_id
        )
        await self.pool.execute(
            "INSERT INTO notifications.products VALUES ($1, $2, 'Keranjang rotan', 'PCE', '460219')",
            product_id, msme_id,
        )  # fmt: skip
        await self.pool.execute(
            "INSERT INTO notifications.requests (request_id, pool_id, proposal_id, msme_id, product_id, quantity, "
            "unit, plan, unit_price, expires_at, status, accepted, requested_at, updated_at) "
            "VALUES ($1, $2, $8, $3, $4, $5, 'PCE', "
            """'[{"month":"2027-02","quantity":300},{"month":"2027-03","quantity":200}]', """
            """'{"amount":"4.50","currency":"USD"}', $6, 'pending', 0, $7, $7)""",
            request_id, pool_id, msme_id, product_id, quantity, START.replace(day=6), START, new_id(),
        )  # fmt: skip
        return request_id


@pytest.fixture
async def page(servers: Servers, database_url: str, nats_prefix: str, pool: asyncpg.Pool) -> AsyncIterator[PhonePage]:
    clock = ManualClock(START)
    settings = settings_for(database_url, servers.nats_url, nats_prefix)
    async with serve(load_services(["notifications"]), settings, clock=clock) as (client, _):
        client.follow_redirects = False  # the page's redirects (POST, redirect, GET) are what is tested
        yield PhonePage(client, pool, clock)
