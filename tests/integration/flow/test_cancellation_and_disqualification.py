"""Undoing supply across the four services: a cancelled order gives back what it booked (and catalog shows the
capacity free again); a disqualified workshop's unanswered requests are withdrawn and go to another."""

from __future__ import annotations

import pytest

from shared.kernel.ids import new_id
from tests.integration.flow.marketplace import BUYER, INSPECTOR, Marketplace, eventually
from tests.integration.flow.test_shortfalls import line, pooled_order, told, two_workshops

pytestmark = pytest.mark.integration


async def test_a_cancelled_order_releases_allocations_frees_capacity_and_tells_the_workshops(
    market: Marketplace,
) -> None:
    standard, jepara, rembang, pool_id = await two_workshops(market)
    order_id = await pooled_order(market, standard, pool_id, 900)
    await market.allocate(pool_id, msmes=2)
    await market.accept(jepara)
    pending = await market.request_for(rembang)

    async def booked() -> bool:
        return await market.committed(jepara, "2027-02") == 400 and await market.committed(jepara, "2027-03") == 400

    await eventually(booked, what="catalog shows Jepara's capacity committed")
    assert (await market.order(order_id))["state"] == "confirmed"

    market.later()
    cancelled = await market.post(
        f"/v1/orders/{order_id}/cancel", {"reason": "the retailer dropped the garden range"}, BUYER, expect=200
    )
    assert cancelled["state"] == "cancelled"

    async def freed() -> bool:
        return await market.committed(jepara, "2027-02") == 0 and await market.committed(jepara, "2027-03") == 0

    await eventually(freed, what="catalog shows Jepara's capacity free again")
    month = {m["month"]: m for m in (await market.product(jepara))["capacity"]}["2027-02"]
    assert (month["declared"], month["committed"], month["available"]) == (400, 0, 400)
    pool = await market.pool_where(pool_id, lambda p: p["demand"] == 0, "the order leaves the pool")
    assert (pool["accepted"], pool["requested"]) == (0, 0)

    released = (await market.requests(jepara, status="accepted"))[0]
    assert released["accepted"] == 0 and "the retailer dropped the garden range" in released["answer"]
    withdrawn = await market.request_for(rembang, status="withdrawn")
    assert withdrawn["id"] == pending["id"] and "the retailer dropped the garden range" in withdrawn["answer"]

    zeroed = await market.order_where(order_id, lambda o: line(o)["accepted"] == 0, "the order's progress is released")
    assert line(zeroed) == {"allocated": 0, "accepted": 0, "delivered": 0, "passed": 0, "shipped": 0}

    async def told_everything() -> list[str] | None:
        events = [item["event"] for item in await market.history(order_id)]
        wanted = {"DemandRemoved", "AllocationWithdrawn", "AllocationReleased", "CapacityReleased"}
        return events if wanted <= set(events) else None

    events = await eventually(told_everything, what="the history tells the release")
    assert events.index("OrderCancelled") < events.index("DemandRemoved")
    assert events.count("CapacityReleased") == 2  # Jepara's two months


async def test_a_disqualified_workshop_loses_its_unanswered_requests_to_another(market: Marketplace) -> None:
    standard, jepara, rembang, pool_id = await two_workshops(market)
    order_id = await pooled_order(market, standard, pool_id, 300)
    await market.allocate(pool_id, msmes=2)
    request = await market.request_for(jepara)

    # Lots Jepara made for another buyer keep failing: tightened inspection after two, discontinued after five
    # more, and with that Jepara loses its qualification under the standard.
    for _ in range(7):
        market.later()
        body = {
            "msme_id": jepara.msme_id,
            "standard_id": standard,
            "standard_version": 1,
            "lot_id": str(new_id()),
            "pool_id": str(new_id()),
            "lot_size": 200,
        }
        opened = await market.post("/v1/inspections", body, INSPECTOR)
        judged = await market.post(
            f"/v1/inspections/{opened['id']}/results", {"defects": {"critical": 0, "major": 6, "minor": 0}}, INSPECTOR
        )
        assert judged["status"] == "rejected"
    quality = await market.get(f"/v1/msmes/{jepara.msme_id}/quality?wait_for_position={judged['position']}", INSPECTOR)
    assert quality["standards"][0]["state"]["qualified"] is False
    assert quality["standards"][0]["state"]["discontinued"] is True

    withdrawn = await market.request_for(jepara, status="withdrawn")
    assert withdrawn["id"] == request["id"] and "disqualified" in withdrawn["answer"]
    replacement = await market.request_for(rembang)
    assert replacement["quantity"] == 300
    await market.accept(rembang)
    made = await market.order_where(order_id, lambda o: o["state"] == "in_production", "the order is in production")
    assert line(made)["accepted"] == 300
    history = await market.history(order_id)
    assert any("disqualified" in summary for summary in told(history, "AllocationWithdrawn"))
    refused = await market.client.post(
        f"/v1/allocation-requests/{request['id']}/accept", json={}, headers=jepara.headers
    )
    assert refused.status_code == 409
