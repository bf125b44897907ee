"""Two buyers' orders in one pool: supply goes to the order required first, each order moves on when its own
lines are covered, and each buyer sees only its own share of what the pool did."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.flow.marketplace import BUYER, OTHER_BUYER, Marketplace, Producer
from tests.integration.flow.test_shortfalls import line, told, two_workshops

pytestmark = pytest.mark.integration


async def two_orders_in_one_pool(market: Marketplace) -> tuple[str, Producer, Producer, str, Any, Any]:
    """Two workshops, and two buyers' orders in one pool: 300 required later, 500 (another buyer's) sooner."""
    standard, jepara, rembang, pool_id = await two_workshops(market)
    await market.register_buyer(OTHER_BUYER, name="Osaka Living K.K.")
    later = await market.confirmed_order(standard, [300], required_by="2027-05-28")
    sooner = await market.confirmed_order(standard, [500], buyer=OTHER_BUYER, required_by="2027-04-30")
    await market.pool_where(pool_id, lambda p: p["demand"] == 800, "both orders join the pool")
    return standard, jepara, rembang, pool_id, later, sooner


async def test_supply_serves_the_order_required_first_and_each_order_moves_on_by_its_own_lines(
    market: Marketplace,
) -> None:
    _, jepara, rembang, pool_id, later, sooner = await two_orders_in_one_pool(market)

    proposal = await market.allocate(pool_id, msmes=2)
    assert [(a["msme_id"], a["quantity"]) for a in proposal["allocations"]] == [(jepara.msme_id, 800)]
    request = await market.request_for(jepara)
    await market.post(f"/v1/allocation-requests/{request['id']}/accept", {"quantity": 600}, jepara.headers, 200)

    first = await market.order_where(
        sooner["id"], lambda o: o["state"] == "in_production", "the sooner order goes into production", OTHER_BUYER
    )
    assert line(first)["accepted"] == 500
    second = await market.order_where(
        later["id"], lambda o: line(o)["accepted"] == 100, "the later order gets the rest"
    )
    assert second["state"] == "confirmed"

    topped_up = await market.request_for(rembang)
    assert topped_up["quantity"] == 200
    await market.accept(rembang)
    await market.order_where(later["id"], lambda o: o["state"] == "in_production", "the later order is covered too")

    mine = told(await market.history(later["id"], BUYER), "AllocationAccepted")
    theirs = told(await market.history(sooner["id"], OTHER_BUYER), "AllocationAccepted")
    assert "accepted 600 (100 for this order) of" in mine[0] and "accepted 600 (500 for this order) of" in theirs[0]
    hidden = await market.client.get(f"/v1/orders/{sooner['id']}/history", headers=BUYER)
    assert hidden.status_code == 404


async def test_each_order_tells_every_lot_delivered_for_it_with_its_verdict_and_its_shipment(
    market: Marketplace,
) -> None:
    standard, jepara, rembang, pool_id, later, sooner = await two_orders_in_one_pool(market)
    await market.allocate(pool_id, msmes=2)
    request = await market.request_for(jepara)
    await market.post(f"/v1/allocation-requests/{request['id']}/accept", {"quantity": 600}, jepara.headers, 200)
    await market.accept(rembang)
    await market.order_where(later["id"], lambda o: o["state"] == "in_production", "both orders are covered")

    shared = await market.deliver(pool_id, jepara, 600, "JPR-001")  # 500 for the sooner order, 100 for the later
    own = await market.deliver(pool_id, rembang, 200, "RBG-001")
    for lot in (shared, own):
        assert (await market.inspect(pool_id, lot, standard))["status"] == "accepted"
    await market.pool_where(pool_id, lambda p: p["status"] == "filled", "the pool is filled")
    await market.ship(pool_id)
    await market.order_where(later["id"], lambda o: o["state"] == "shipped", "the later order ships")
    await market.order_where(sooner["id"], lambda o: o["state"] == "shipped", "the sooner order ships", OTHER_BUYER)

    for order, buyer, codes in ((later, BUYER, ["JPR-001", "RBG-001"]), (sooner, OTHER_BUYER, ["JPR-001"])):
        items = await market.history(order["id"], buyer)
        for event in ("LotReceived", "LotAccepted", "LotPassed"):
            lots = sorted(code for code in ("JPR-001", "RBG-001") for s in told(items, event) if f"Lot {code} " in s)
            assert lots == codes, (order["id"], event, [(i["event"], i["summary"]) for i in items])
        assert len(told(items, "ConsignmentShipped")) == 1
