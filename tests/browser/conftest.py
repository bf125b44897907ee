"""The whole marketplace (notifications included) served over real HTTP for a real browser, its WhatsApp number
pointed at the fake Graph API, on a clock the test moves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest

from shared.http import create_app
from shared.kernel.clock import ManualClock
from shared.runtime import Runtime
from tests.conftest import Servers
from tests.integration.flow.marketplace import START, Marketplace
from tests.integration.notifications.conftest import SERVICES, whatsapp
from tests.support.app import settings_for
from tests.support.phone_browser import phone, served

__all__ = ["phone", "whatsapp"]


@pytest.fixture
async def market(
    database_url: str, servers: Servers, nats_prefix: str, whatsapp: object
) -> AsyncIterator[tuple[Marketplace, str]]:
    """The marketplace as the people who use it drive it (over HTTP), and the base URL the browser opens."""
    clock = ManualClock(START)
    settings = replace(settings_for(database_url, servers.nats_url, nats_prefix), pool_size=20)
    runtime = Runtime(settings, SERVICES, clock=clock)
    async with (
        served(create_app(settings, SERVICES, runtime=runtime)) as url,
        httpx.AsyncClient(base_url=url) as client,
    ):
        yield Marketplace(client, runtime, clock), url  # type: ignore[arg-type]
