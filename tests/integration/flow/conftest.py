"""All four services in one runtime on the test's own database and NATS prefix, with a clock the test moves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from services.catalog.app import service as catalog
from services.orders.app import service as orders
from services.pooling.app import service as pooling
from services.quality.app import service as quality
from shared.kernel.clock import ManualClock
from tests.conftest import Servers
from tests.integration.flow.marketplace import START, Marketplace
from tests.support.app import serve, settings_for


@pytest.fixture
async def market(database_url: str, servers: Servers, nats_prefix: str) -> AsyncIterator[Marketplace]:
    clock = ManualClock(START)
    settings = replace(settings_for(database_url, servers.nats_url, nats_prefix), pool_size=20)
    async with serve([catalog, orders, pooling, quality], settings, clock=clock) as (client, runtime):
        yield Marketplace(client, runtime, clock)
