"""Two replicas of the webhooks service on one database: each event is queued once (the inbox), each message
is sent by one dispatcher at a time, and every order's messages still arrive in order."""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest

from services.webhooks.app import service as webhooks
from shared.runtime import Runtime
from tests.integration.orders.support import register_buyer
from tests.integration.webhooks.conftest import ANA, DEWI, Hooks, subscribe
from tests.integration.webhooks.test_delivery import arrived, confirm, place, quote

pytestmark = pytest.mark.integration


async def test_two_dispatchers_send_each_message_once_and_each_orders_in_order(hooks: Hooks) -> None:
    client, receiver = hooks.client, hooks.receiver
    replica = Runtime(hooks.settings, [webhooks])
    await replica.start()
    try:
        await register_buyer(client)
        buyer = await subscribe(
            client, ANA, receiver.url("/buyer"), ["order.requested", "order.quoted", "order.confirmed"]
        )
        aggregator = await subscribe(client, DEWI, receiver.url("/aggregator"), ["order.quoted", "order.confirmed"])
        receiver.secrets = [buyer["secret"], aggregator["secret"]]
        orders = [await place(client) for _ in range(8)]
        for order in orders:
            await quote(client, order)
            await confirm(client, order)
        await arrived(receiver, 8 * 3 + 8 * 2)
    finally:
        await replica.stop()

    assert all(r.verified_by for r in receiver.received)
    copies = Counter(r.message_id for r in receiver.received)
    assert max(copies.values()) == 1, [m for m, n in copies.items() if n > 1]
    per_order: dict[tuple[str, str], list[str]] = defaultdict(list)
    for message in receiver.received:
        per_order[message.path, message.data["order_id"]].append(message.type)
    for order in orders:
        assert per_order["/buyer", order["id"]] == ["order.requested", "order.quoted", "order.confirmed"]
        assert per_order["/aggregator", order["id"]] == ["order.quoted", "order.confirmed"]
