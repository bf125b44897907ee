"""Accounts' HTTP tests: accounts alone, or with catalog beside it to watch keys work (and stop working) there."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from services.accounts.app import service as accounts
from services.catalog.app import service as catalog
from shared.runtime import Runtime
from tests.conftest import Servers
from tests.support.app import serve, settings_for

Client = AsyncTestClient[Litestar]


@pytest.fixture
async def app(database_url: str, servers: Servers, nats_prefix: str) -> AsyncIterator[tuple[Client, Runtime]]:
    async with serve([accounts, catalog], settings_for(database_url, servers.nats_url, nats_prefix)) as running:
        yield running


@pytest.fixture
def client(app: tuple[Client, Runtime]) -> Client:
    return app[0]
