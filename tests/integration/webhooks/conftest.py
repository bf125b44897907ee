"""Webhooks under test: accounts (who administers which organisation), orders and pooling (whose events are
sent), and webhooks, in one runtime on the test's own database and NATS prefix, with a real receiver."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from services.accounts.app import service as accounts
from services.orders.app import service as orders
from services.pooling.app import service as pooling
from services.webhooks.app import service as webhooks
from shared.auth import Role
from shared.config import Settings
from shared.kernel.clock import Clock
from shared.runtime import Runtime
from tests.conftest import Servers
from tests.integration.orders.support import PUBLISHED
from tests.support.app import serve, settings_for, token
from tests.support.receiver import Receiver, running_receiver
from tests.support.standards import serve_knowing
from tests.support.waiting import eventually

Client = AsyncTestClient[Litestar]
OPERATOR = token(Role.ADMIN, org="gotong", sub="ops")
ANA = token(Role.BUYER, org="rotterdam-home", sub="ana")  # the buyer organisation's admin
JOOST = token(Role.BUYER, org="rotterdam-home", sub="joost")  # a member, not an admin
KENJI = token(Role.BUYER, org="osaka-trading", sub="kenji")  # another buyer's admin
DEWI = token(Role.AGGREGATOR, org="cirebon-rattan", sub="dewi")  # the aggregator's admin
ORGANISATIONS = {
    "rotterdam-home": ("buyer", "ana", ["joost"]),
    "osaka-trading": ("buyer", "kenji", []),
    "cirebon-rattan": ("aggregator", "dewi", []),
}
SERVICES = [accounts, orders, pooling, webhooks]


@dataclass
class Hooks:
    client: Client
    runtime: Runtime
    receiver: Receiver
    settings: Settings


async def register_organisations(client: Client, database_url: str) -> None:
    """Register the organisations with their admins (and members), and wait until webhooks' mirror knows them."""
    for org, (kind, admin, members) in ORGANISATIONS.items():
        body = {"org": org, "kind": kind, "name": org.title(), "first_admin": {"subject": admin}}
        response = await client.post("/v1/organisations", json=body, headers=OPERATOR)
        assert response.status_code == 201, response.text
        for member in members:
            added = await client.post(
                f"/v1/organisations/{org}/members", json={"subject": member, "role": kind}, headers=OPERATOR
            )
            assert added.status_code == 201, added.text
    wanted = sum(1 + len(members) for _, _, members in ORGANISATIONS.values())
    connection = await asyncpg.connect(database_url)
    try:

        async def mirrored() -> bool:
            return await connection.fetchval("SELECT count(*) FROM webhooks.identity_memberships") >= wanted

        await eventually(mirrored)
    finally:
        await connection.close()


@pytest.fixture
def settings(database_url: str, servers: Servers, nats_prefix: str) -> Settings:
    return replace(settings_for(database_url, servers.nats_url, nats_prefix), pool_size=12)


@asynccontextmanager
async def serving(
    settings: Settings, receiver: Receiver, *, fresh: bool = True, clock: Clock | None = None
) -> AsyncIterator[Hooks]:
    """The services on ``settings``; on a fresh database the organisations are registered first."""
    assert settings.database_url is not None
    if not fresh:  # the standards and organisations are in the database already
        async with serve(SERVICES, settings, clock=clock) as (client, runtime):
            yield Hooks(client, runtime, receiver, settings)
        return
    async with serve_knowing(SERVICES, settings, PUBLISHED, clock=clock) as (client, runtime):
        await register_organisations(client, settings.database_url)
        yield Hooks(client, runtime, receiver, settings)


@pytest.fixture
async def hooks(settings: Settings) -> AsyncIterator[Hooks]:
    async with running_receiver() as receiver, serving(settings, receiver) as running:
        yield running


async def subscribe(client: Client, headers: dict[str, str], url: str, event_types: list[str], **extra: Any) -> Any:
    """Make a subscription; its answer holds the secret, shown this once."""
    response = await client.post(
        "/v1/webhooks", json={"url": url, "event_types": event_types, **extra}, headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()
