"""Webhooks reaching a real receiver that checks every signature with the ``standardwebhooks`` package: through
an outage of the receiver, in order per order, deduplicatable by ``webhook-id``; across a secret rotation;
redelivered by hand; to the buyer and the aggregator of each order only."""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from services.webhooks import outbox, workers
from tests.integration.orders.support import OTHER_BUYER, quote_body, register_buyer
from tests.integration.orders.support import order_body as orders_body
from tests.integration.webhooks.conftest import ANA, DEWI, KENJI, Client, Hooks, subscribe
from tests.support.receiver import Receiver
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

BUYER_TYPES = ["order.requested", "order.quoted", "order.confirmed", "order.cancelled"]


async def place(client: Client, headers: dict[str, str] = ANA) -> dict[str, Any]:
    response = await client.post("/v1/orders", json=orders_body(), headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def quote(client: Client, order: dict[str, Any]) -> None:
    response = await client.post(f"/v1/orders/{order['id']}/quote", json=quote_body(order), headers=DEWI)
    assert response.status_code == 200, response.text


async def confirm(client: Client, order: dict[str, Any], headers: dict[str, str] = ANA) -> None:
    response = await client.post(f"/v1/orders/{order['id']}/confirm", headers=headers)
    assert response.status_code == 200, response.text


async def cancel(client: Client, order: dict[str, Any]) -> None:
    response = await client.post(f"/v1/orders/{order['id']}/cancel", json={"reason": "range changed"}, headers=ANA)
    assert response.status_code == 200, response.text


async def arrived(receiver: Receiver, count: int, timeout: float = 30) -> None:
    async def enough() -> bool:
        return len({r.message_id for r in receiver.accepted()}) >= count

    await eventually(enough, timeout)


async def deliveries(client: Client, subscription_id: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = await client.get(f"/v1/webhooks/{subscription_id}/deliveries?limit=500", headers=headers)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def test_every_event_arrives_signed_and_in_order_after_the_receiver_was_down(hooks: Hooks) -> None:
    client, receiver = hooks.client, hooks.receiver
    await register_buyer(client)
    buyer = await subscribe(client, ANA, receiver.url("/buyer"), BUYER_TYPES)
    aggregator = await subscribe(client, DEWI, receiver.url("/aggregator"), ["order.quoted", "order.confirmed"])
    receiver.secrets = [buyer["secret"], aggregator["secret"]]
    await receiver.stop()  # connections refused from now on

    orders = [await place(client) for _ in range(3)]
    for order in orders:
        await quote(client, order)
    await confirm(client, orders[0])
    await confirm(client, orders[1])
    await cancel(client, orders[2])
    buyer_id = buyer["subscription"]["id"]

    async def failed_once() -> bool:
        waiting = await deliveries(client, buyer_id, ANA)
        return any(d["attempts"] >= 1 and d["error"] for d in waiting)

    await eventually(failed_once)
    waiting = await deliveries(client, buyer_id, ANA)
    assert {d["status"] for d in waiting} == {"pending"}
    tried = next(d for d in waiting if d["error"])
    assert "ConnectError" in tried["error"] and tried["next_attempt_at"] is not None

    await receiver.start()
    expected_buyer = 3 * 2 + 3  # requested and quoted, then confirmed or cancelled
    await arrived(receiver, expected_buyer + 3 * 1 + 2)  # the aggregator: three quotes, two confirmations

    accepted = receiver.accepted()
    assert all(r.verified_by for r in receiver.received), "a message failed verification with standardwebhooks"
    by_id: dict[str, set[bytes]] = defaultdict(set)
    for message in receiver.received:
        by_id[message.message_id].add(message.body)
    assert all(len(bodies) == 1 for bodies in by_id.values()), "a webhook-id came with two different bodies"

    per_order: dict[str, dict[str, list[str]]] = {"/buyer": defaultdict(list), "/aggregator": defaultdict(list)}
    for message in dict((r.message_id, r) for r in accepted).values():  # each message once, as first accepted
        per_order[message.path][message.data["order_id"]].append(message.type)
    seen_buyer, seen_aggregator = dict(per_order["/buyer"]), dict(per_order["/aggregator"])
    assert seen_buyer == {
        orders[0]["id"]: ["order.requested", "order.quoted", "order.confirmed"],
        orders[1]["id"]: ["order.requested", "order.quoted", "order.confirmed"],
        orders[2]["id"]: ["order.requested", "order.quoted", "order.cancelled"],
    }
    assert seen_aggregator == {
        orders[0]["id"]: ["order.quoted", "order.confirmed"],
        orders[1]["id"]: ["order.quoted", "order.confirmed"],
        orders[2]["id"]: ["order.quoted"],
    }
    first = next(r for r in accepted if r.type == "order.confirmed" and buyer["secret"] in r.verified_by)
    assert first.data["type"] == "orders.OrderConfirmed.v1" and first.data["buyer_org"] == "rotterdam-home"
    assert first.message_id.startswith("msg_") and first.payload["timestamp"].endswith("Z")

    async def all_delivered() -> bool:
        return {d["status"] for d in await deliveries(client, buyer_id, ANA)} == {"delivered"}

    await eventually(all_delivered)
    logged = await deliveries(client, buyer_id, ANA)
    assert {d["id"] for d in logged} == {r.message_id for r in accepted if buyer["secret"] in r.verified_by}
    assert all(d["response_status"] == 204 and d["latency_ms"] is not None for d in logged)
    assert max(d["attempts"] for d in logged) >= 2


async def test_each_organisation_is_told_only_of_its_own_orders(hooks: Hooks) -> None:
    client, receiver = hooks.client, hooks.receiver
    await register_buyer(client)
    await register_buyer(client, OTHER_BUYER, name="Osaka Trading K.K.")
    mine = await subscribe(client, ANA, receiver.url("/ana"), ["order.requested"])
    theirs = await subscribe(client, KENJI, receiver.url("/kenji"), ["order.requested"])
    receiver.secrets = [mine["secret"], theirs["secret"]]
    ana_order = await place(client)
    kenji_order = await place(client, OTHER_BUYER)
    await arrived(receiver, 2)
    told = {r.data["order_id"]: r.verified_by for r in receiver.accepted()}
    assert told == {ana_order["id"]: (mine["secret"],), kenji_order["id"]: (theirs["secret"],)}
    foreign = await client.get(f"/v1/webhooks/{mine['subscription']['id']}/deliveries", headers=KENJI)
    assert foreign.status_code == 404


async def test_during_a_rotation_both_secrets_verify_and_an_older_one_stops(hooks: Hooks) -> None:
    client, receiver = hooks.client, hooks.receiver
    await register_buyer(client)
    made = await subscribe(client, ANA, receiver.url(), ["order.requested"])
    old = made["secret"]
    path = f"/v1/webhooks/{made['subscription']['id']}"

    rotated = await client.post(f"{path}/rotate-secret", headers=ANA)
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["secret"]
    assert new != old and rotated.json()["subscription"]["secret_version"] == 2
    assert (
        rotated.json()["subscription"]["previous_secret_valid_until"] == rotated.json()["previous_secret_valid_until"]
    )
    receiver.secrets = [old, new]
    await place(client)
    await arrived(receiver, 1)
    during = receiver.accepted()[0]
    assert set(during.verified_by) == {old, new} and len(during.signature.split(" ")) == 2

    again = await client.post(f"{path}/rotate-secret", headers=ANA)
    newest = again.json()["secret"]
    receiver.secrets = [old, new, newest]
    await place(client)
    await arrived(receiver, 2)
    after = receiver.accepted()[-1]
    assert set(after.verified_by) == {new, newest}, "the secret before the previous one must stop at once"
    assert old not in (await client.get(path, headers=ANA)).text


async def test_a_message_is_redelivered_by_hand_under_its_own_webhook_id(hooks: Hooks) -> None:
    client, receiver = hooks.client, hooks.receiver
    await register_buyer(client)
    made = await subscribe(client, ANA, receiver.url(), ["order.requested"])
    receiver.secrets = [made["secret"]]
    subscription_id = made["subscription"]["id"]
    await place(client)
    await arrived(receiver, 1)
    first = receiver.accepted()[0]

    async def logged() -> bool:
        found = await deliveries(client, subscription_id, ANA)
        return bool(found) and found[0]["status"] == "delivered"

    await eventually(logged)
    again = await client.post(f"/v1/webhooks/{subscription_id}/deliveries/{first.message_id}/redeliver", headers=ANA)
    assert again.status_code == 202, again.text

    async def twice() -> bool:
        return len(receiver.accepted()) >= 2

    await eventually(twice)
    second = receiver.accepted()[1]
    assert second.message_id == first.message_id and second.body == first.body and second.verified_by

    async def detail() -> dict[str, Any]:
        response = await client.get(f"/v1/webhooks/{subscription_id}/deliveries/{first.message_id}", headers=ANA)
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def two_tries() -> bool:
        found = await detail()
        return len(found["tries"]) == 2 and found["status"] == "delivered"

    await eventually(two_tries)
    shown = await detail()
    assert shown["payload"]["type"] == "order.requested" and shown["attempts"] == 2
    assert [t["response_status"] for t in shown["tries"]] == [204, 204]
    unknown = f"/v1/webhooks/{subscription_id}/deliveries/msg_{'0' * 32}_{'0' * 32}/redeliver"
    assert (await client.post(unknown, headers=ANA)).status_code == 404


async def test_a_ping_reaches_the_url_whatever_the_event_types(hooks: Hooks) -> None:
    client, receiver = hooks.client, hooks.receiver
    made = await subscribe(client, DEWI, receiver.url(), ["pool.filled"])
    receiver.secrets = [made["secret"]]
    pinged = await client.post(f"/v1/webhooks/{made['subscription']['id']}/ping", headers=DEWI)
    assert pinged.status_code == 202, pinged.text
    await arrived(receiver, 1)
    message = receiver.accepted()[0]
    assert message.message_id == pinged.json()["id"] and message.type == "webhook.ping"
    assert message.data["type"] == "webhooks.WebhookPinged.v1" and message.data["org"] == "cirebon-rattan"


async def test_a_message_arrives_within_a_second_of_the_command_that_caused_it(hooks: Hooks) -> None:
    client, receiver = hooks.client, hooks.receiver
    await register_buyer(client)
    made = await subscribe(client, ANA, receiver.url(), ["order.requested"])
    receiver.secrets = [made["secret"]]
    lags: list[float] = []
    for count in range(1, 11):
        await place(client)
        answered = time.perf_counter()
        await arrived(receiver, count)
        lags.append(time.perf_counter() - answered)
    lags.sort()
    print(f"order placed → webhook received: median {lags[5] * 1000:.0f} ms, max {lags[-1] * 1000:.0f} ms")
    assert lags[-1] < 1.0, lags


async def test_finished_messages_leave_the_log_after_a_month_and_waiting_ones_stay(hooks: Hooks) -> None:
    client, receiver = hooks.client, hooks.receiver
    await register_buyer(client)
    sent = await subscribe(client, ANA, receiver.url("/up"), ["order.requested"])
    waiting = await subscribe(client, ANA, "http://127.0.0.1:9/down", ["order.requested"])  # nothing listens
    await place(client)

    async def settled() -> bool:
        done = await deliveries(client, sent["subscription"]["id"], ANA)
        tried = await deliveries(client, waiting["subscription"]["id"], ANA)
        return [d["status"] for d in done] == ["delivered"] and bool(tried) and tried[0]["attempts"] >= 1

    await eventually(settled)
    assert hooks.settings.database_url is not None
    async with asyncpg.create_pool(hooks.settings.database_url, min_size=1, max_size=2) as pool:
        now = datetime.now(UTC)
        assert await outbox.prune(pool, now - workers.KEEP_LOG) == 0
        assert await outbox.prune(pool, now + workers.KEEP_LOG) == 1
        left = await pool.fetch("SELECT subscription_id, status FROM webhooks.deliveries")
        tries = await pool.fetchval("SELECT count(*) FROM webhooks.attempts a JOIN webhooks.deliveries d "
                                    "ON d.seq = a.delivery_seq")  # fmt: skip
        orphans = await pool.fetchval("SELECT count(*) FROM webhooks.attempts a WHERE NOT EXISTS "
                                      "(SELECT 1 FROM webhooks.deliveries d WHERE d.seq = a.delivery_seq)")  # fmt: skip
    assert [(str(r["subscription_id"]), r["status"]) for r in left] == [(waiting["subscription"]["id"], "pending")]
    assert tries >= 1 and orphans == 0
    assert await deliveries(client, sent["subscription"]["id"], ANA) == []
