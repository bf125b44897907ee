"""Quality's HTTP tests run the service on the test's own database and NATS prefix."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from services.quality.app import service
from shared.runtime import Runtime
from tests.conftest import Servers
from tests.integration.quality.fixtures import Client
from tests.support.app import serve, settings_for


@pytest.fixture
async def app(database_url: str, servers: Servers, nats_prefix: str) -> AsyncIterator[tuple[Client, Runtime]]:
    async with serve([service], settings_for(database_url, servers.nats_url, nats_prefix)) as running:
        yield running


@pytest.fixture
def client(app: tuple[Client, Runtime]) -> Client:
    return app[0]
