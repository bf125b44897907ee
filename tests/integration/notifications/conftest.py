"""The marketplace with notifications, its WhatsApp number pointed at a fake Graph API served by the test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import replace

import pytest

from services.catalog.app import service as catalog
from services.notifications.app import service as notifications
from services.orders.app import service as orders
from services.pooling.app import service as pooling
from services.quality.app import service as quality
from shared.kernel.clock import ManualClock
from tests.conftest import Servers
from tests.integration.flow.marketplace import START, Marketplace
from tests.integration.notifications.whatsapp_flow import PUBLIC_URL
from tests.support.app import serve, settings_for
from tests.support.whatsapp import FakeWhatsApp, fake_whatsapp

SERVICES = [catalog, orders, pooling, quality, notifications]


@pytest.fixture
def whatsapp(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeWhatsApp]:
    with fake_whatsapp() as fake:
        for name, value in fake.env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("GOTONG_PUBLIC_URL", PUBLIC_URL)
        monkeypatch.delenv("GOTONG_REMINDER_BEFORE", raising=False)
        yield fake


@pytest.fixture
async def market(
    database_url: str, servers: Servers, nats_prefix: str, whatsapp: FakeWhatsApp
) -> AsyncIterator[Marketplace]:
    clock = ManualClock(START)
    settings = replace(settings_for(database_url, servers.nats_url, nats_prefix), pool_size=20)
    async with serve(SERVICES, settings, clock=clock) as (client, runtime):
        yield Marketplace(client, runtime, clock)
