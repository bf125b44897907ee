"""Orders' events reach NATS: OrderConfirmed arrives on its subject with everything pooling needs to open demand."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from events.orders import CODEC, OrderConfirmed
from services.orders.app import service
from shared import bus
from shared.consumer import parse
from tests.conftest import Servers
from tests.integration.orders.support import BUYER, PUBLISHED, Client, quoted_order, register_buyer
from tests.support.app import settings_for
from tests.support.standards import serve_knowing

pytestmark = pytest.mark.integration


@pytest.fixture
async def client(database_url: str, servers: Servers, nats_prefix: str) -> AsyncIterator[Client]:
    async with serve_knowing([service], settings_for(database_url, servers.nats_url, nats_prefix), PUBLISHED) as (
        client,
        _,
    ):
        await register_buyer(client)
        yield client


async def test_order_confirmed_is_published_with_full_state(client: Client, servers: Servers, nats_prefix: str) -> None:
    order = await quoted_order(client)
    confirmed = await client.post(f"/v1/orders/{order['id']}/confirm", headers=BUYER)
    assert confirmed.status_code == 200
    nats = await bus.connect(servers.nats_url)
    try:
        js = nats.jetstream()
        subscription = await js.pull_subscribe(
            bus.subject(nats_prefix, "orders", "OrderConfirmed"), stream=bus.stream_name(nats_prefix, "orders")
        )
        (message,) = await subscription.fetch(1, timeout=10)
    finally:
        await nats.close()
    delivery = parse(message, CODEC)
    event = delivery.event
    assert isinstance(event, OrderConfirmed)
    assert str(event.order_id) == order["id"] and delivery.stream_id == f"order-{order['id']}"
    assert delivery.stream_version == 3 and delivery.metadata.correlation_id == order["id"]
    assert event.aggregator_org == "cirebon-rattan" and event.buyer_org == "rotterdam-home"
    assert [(line.hs_code, line.standard_version, line.unit, line.quantity) for line in event.lines] == [
        ("460212", 2, "PCE", 20000),
        ("46021900", 2, "PCE", 5000),
    ]
    assert all(line.quoted_unit_price.amount > 0 for line in event.lines)
    assert event.incoterm == "FOB" and event.destination_port == "NLRTM" and event.lead_time_days == 45
