"""Pooling's events reach the aggregator that owns the pool whole, and each buyer whose order lines they name
as ``order.line_progress`` with only the buyer's own lines."""

from __future__ import annotations

import pytest

from tests.integration.orders.support import OTHER_BUYER, STANDARD, register_buyer
from tests.integration.webhooks.conftest import ANA, DEWI, KENJI, Hooks, subscribe
from tests.integration.webhooks.test_delivery import arrived, confirm, place, quote

pytestmark = pytest.mark.integration

POOL = {
    "name": "Rattan baskets for Europe",
    "hs_code": "460212",
    "standard_id": STANDARD,
    "standard_version": 2,
    "unit": "PCE",
    "currency": "USD",
    "consolidation_point": "Semarang",
}


async def test_a_pool_tells_its_aggregator_and_each_buyer_of_the_buyers_own_lines(hooks: Hooks) -> None:
    client, receiver = hooks.client, hooks.receiver
    await register_buyer(client)
    await register_buyer(client, OTHER_BUYER, name="Osaka Trading K.K.")
    ana = await subscribe(client, ANA, receiver.url("/ana"), ["order.line_progress"])
    kenji = await subscribe(client, KENJI, receiver.url("/kenji"), ["order.line_progress"])
    dewi = await subscribe(client, DEWI, receiver.url("/dewi"), ["pool.demand_added", "demand.unmatched"])
    receiver.secrets = [ana["secret"], kenji["secret"], dewi["secret"]]
    opened = await client.post("/v1/pools", json=POOL, headers=DEWI)
    assert opened.status_code == 201, opened.text
    pool_id = opened.json()["id"]
    await client.get(f"/v1/pools?wait_for_position={opened.json()['position']}", headers=DEWI)

    mine, theirs = await place(client), await place(client, OTHER_BUYER)
    for order, buyer in ((mine, ANA), (theirs, OTHER_BUYER)):
        await quote(client, order)
        await confirm(client, order, buyer)
    await arrived(receiver, 2 + 2 + 2)  # each buyer's pooled line; the aggregator: two lines pooled, two unmatched

    got: dict[str, list[dict[str, object]]] = {"/ana": [], "/kenji": [], "/dewi": []}
    for message in receiver.accepted():
        assert message.verified_by
        got[message.path].append(message.payload)
    for path, order in (("/ana", mine), ("/kenji", theirs)):
        [told] = got[path]
        data = told["data"]
        assert isinstance(data, dict)
        assert told["type"] == "order.line_progress" and data["type"] == "pooling.DemandAdded.v1"
        assert data["pool_id"] == pool_id and data["order_id"] == order["id"]
        assert {line["order_id"] for line in [*data["lines"], *data["progress"]]} == {order["id"]}
    aggregator = sorted((m["type"], m["data"]["order_id"]) for m in got["/dewi"])  # type: ignore[index]
    assert aggregator == sorted(
        [(kind, order["id"]) for kind in ("pool.demand_added", "demand.unmatched") for order in (mine, theirs)]
    )
