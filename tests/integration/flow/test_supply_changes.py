"""Supply that changes under an order, across the four services: a line no pool matched waits where the
aggregator sees it, a partial acceptance and a lowered capacity are topped up by another workshop."""

from __future__ import annotations

import pytest

from tests.integration.flow.marketplace import AGGREGATOR, Marketplace, eventually
from tests.integration.flow.test_shortfalls import line, pooled_order, told, two_workshops

pytestmark = pytest.mark.integration


async def test_a_line_no_pool_matches_waits_for_the_aggregator_who_pools_it_later(market: Marketplace) -> None:
    standard = await market.publish_standard()
    jepara = await market.producer("jepara-teak", standard, name="Mebel Jati Jepara")
    await market.qualify(jepara, standard)
    await market.register_buyer()
    order = await market.confirmed_order(standard, [250])
    line_id = order["lines"][0]["line_id"]

    async def unmatched() -> list[dict[str, object]] | None:
        items: list[dict[str, object]] = (await market.get("/v1/unmatched-demand", AGGREGATOR))["items"]
        return items or None

    (waiting,) = await eventually(unmatched, what="the aggregator sees the unmatched line")
    assert (waiting["order_id"], waiting["line_id"], waiting["quantity"]) == (order["id"], line_id, 250)

    pool_id = await market.open_pool(standard)
    await market.post(f"/v1/pools/{pool_id}/demand", {"order_id": order["id"], "line_id": line_id}, AGGREGATOR)
    await market.allocate(pool_id, msmes=1)
    await market.accept(jepara)
    made = await market.order_where(order["id"], lambda o: o["state"] == "in_production", "the order is in production")
    assert line(made)["accepted"] == 250
    history = await market.history(order["id"])
    assert "no open pool" in told(history, "DemandUnmatched")[0]
    assert len(told(history, "DemandAdded")) == 1


async def test_a_partial_acceptance_is_topped_up_by_another_workshop(market: Marketplace) -> None:
    standard, jepara, rembang, pool_id = await two_workshops(market)
    order_id = await pooled_order(market, standard, pool_id, 500)
    await market.allocate(pool_id, msmes=2)
    request = await market.request_for(jepara)
    await market.post(f"/v1/allocation-requests/{request['id']}/accept", {"quantity": 200}, jepara.headers, 200)
    partly = await market.order_where(order_id, lambda o: line(o)["accepted"] == 200, "the partial acceptance shows")
    assert partly["state"] == "confirmed"

    topped_up = await market.request_for(rembang)
    assert topped_up["quantity"] == 300
    await market.accept(rembang)
    made = await market.order_where(order_id, lambda o: o["state"] == "in_production", "the order is in production")
    assert (line(made)["allocated"], line(made)["accepted"]) == (500, 500)
    assert "accepted 200 of 500" in told(await market.history(order_id), "AllocationAccepted")[0]


async def test_a_workshop_lowering_its_capacity_gives_back_units_another_workshop_takes(market: Marketplace) -> None:
    standard, jepara, rembang, pool_id = await two_workshops(market)
    order_id = await pooled_order(market, standard, pool_id, 600)
    await market.allocate(pool_id, msmes=2)
    request = await market.request_for(jepara)
    assert request["plan"] == [{"month": "2027-02", "quantity": 400}, {"month": "2027-03", "quantity": 200}]
    await market.accept(jepara)
    await market.order_where(order_id, lambda o: o["state"] == "in_production", "the order is in production")

    market.later()
    await market.call(
        "PUT", f"/v1/products/{jepara.product_id}/capacity", jepara.headers, json={"months": {"2027-02": 250}}
    )

    async def lowered() -> bool:
        return await market.committed(jepara, "2027-02") == 250

    await eventually(lowered, what="catalog shows what pooling still holds of Jepara's February")
    topped_up = await market.request_for(rembang)
    assert topped_up["quantity"] == 150
    gave_back = await market.order_where(order_id, lambda o: line(o)["accepted"] == 450, "the released units show")
    assert gave_back["state"] == "in_production"
    await market.accept(rembang)
    await market.order_where(order_id, lambda o: line(o)["accepted"] == 600, "the order is covered again")
    (released,) = told(await market.history(order_id), "AllocationReleased")
    assert (
        "Mebel Jati Jepara released from 150 accepted units" in released and "lowered its declared capacity" in released
    )
