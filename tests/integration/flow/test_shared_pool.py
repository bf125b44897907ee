"""Two buyers' orders in one pool: supply goes to the order required first, each order moves on when its own
lines are covered, and each buyer sees only its own share of what the pool did."""

from __future__ import annotations

import pytest

from tests.integration.flow.marketplace import BUYER, OTHER_BUYER, Marketplace
from tests.integration.flow.test_shortfalls import line, told, two_workshops

pytestmark = pytest.mark.integration


async def test_supply_serves_the_order_required_first_and_each_order_moves_on_by_its_own_lines(
    market: Marketplace,
) -> None:
    standard, jepara, rembang, pool_id = await two_workshops(market)
    await market.register_buyer(OTHER_BUYER, name="Osaka Living K.K.")
    later = await market.confirmed_order(standard, [300], required_by="2027-05-28")
    sooner = await market.confirmed_order(standard, [500], buyer=OTHER_BUYER, required_by="2027-04-30")
    await market.pool_where(pool_id, lambda p: p["demand"] == 800, "both orders join the pool")

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
