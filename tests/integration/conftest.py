"""What the integration tests share: the settings of a test's own database and NATS prefix, and a NATS client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from nats.aio.client import Client

from shared import bus
from shared.config import Settings
from tests.conftest import Servers
from tests.support.app import settings_for


@pytest.fixture
def settings(database_url: str, servers: Servers, nats_prefix: str) -> Settings:
    return settings_for(database_url, servers.nats_url, nats_prefix)


@pytest.fixture
async def nats_client(settings: Settings) -> AsyncIterator[Client]:
    client = await bus.connect(settings.nats_url or "")
    yield client
    await client.close()
