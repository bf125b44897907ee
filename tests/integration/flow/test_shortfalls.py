"""Shortfalls across the four services: a declined request, an expired one and a rejected lot are re-allocated
without anyone acting, and the buyer follows it all on the order."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.integration.flow.marketplace import BUYER, Marketplace, Producer

pytestmark = pytest.mark.integration


async def two_workshops(market: Marketplace) -> tuple[str, Producer, Producer, str]:
    """A standard, a cheaper qualified workshop in Jepara and a dearer one in Rembang, and an open pool."""
    standard = await market.publish_standard()
    jepara = await market.producer("jepara-teak", standard, name="Mebel Jati Jepara", price="38.00")
    rembang = await market.producer("rembang-teak", standard, name="Jati Rembang", city="Rembang", price="41.00")
    await market.qualify(jepara, standard)
    await market.qualify(rembang, standard)
    await market.register_buyer()
    return standard, jepara, rembang, await market.open_pool(standard)


async def pooled_order(market: Marketplace, standard: str, pool_id: str, quantity: int) -> str:
    order = await market.confirmed_order(standard, [quantity])
    await market.pool_where(pool_id, lambda p: p["demand"] == quantity, "the order joins the pool")
    return str(order["id"])


def line(order: dict[str, Any]) -> dict[str, int]:
    progress: dict[str, int] = order["lines"][0]["progress"]
    return progress


def told(history: list[dict[str, Any]], event: str) -> list[str]:
    return [item["summary"] for item in history if item["event"] == event]


async def test_a_declined_request_goes_to_the_next_workshop_and_the_order_still_goes_into_production(
    market: Marketplace,
) -> None:
    standard, jepara, rembang, pool_id = await two_workshops(market)
    order_id = await pooled_order(market, standard, pool_id, 500)
    proposal = await market.allocate(pool_id, msmes=2)
    assert [(a["msme_id"], a["quantity"]) for a in proposal["allocations"]] == [(jepara.msme_id, 500)]

    request = await market.request_for(jepara)
    market.later()
    reason = "our kiln-dried teak stock went to a local buyer"
    await market.post(f"/v1/allocation-requests/{request['id']}/decline", {"reason": reason}, jepara.headers, 200)
    replacement = await market.request_for(rembang)
    assert replacement["quantity"] == 500
    market.later()
    await market.accept(rembang)

    made = await market.order_where(order_id, lambda o: o["state"] == "in_production", "the order is in production")
    assert (line(made)["allocated"], line(made)["accepted"]) == (500, 500)
    history = await market.history(order_id)
    assert any(reason in summary for summary in told(history, "AllocationDeclined"))
    asked = told(history, "AllocationRequested")
    assert len(asked) == 2 and "Jati Rembang" in asked[1]
    assert [item["event"] for item in history][-1] == "OrderInProduction"


async def test_an_unanswered_request_expires_by_the_clock_and_the_next_workshop_gets_it(market: Marketplace) -> None:
    standard, jepara, rembang, pool_id = await two_workshops(market)
    order_id = await pooled_order(market, standard, pool_id, 400)
    await market.allocate(pool_id, msmes=2, expires_in=60)
    request = await market.request_for(jepara)
    await market.order_where(order_id, lambda o: line(o)["allocated"] == 400, "the request shows as allocated")

    market.clock.advance(timedelta(seconds=61))
    expired = await market.request_for(jepara, status="expired")
    assert expired["id"] == request["id"]
    await market.request_for(rembang)
    await market.accept(rembang)
    made = await market.order_where(order_id, lambda o: o["state"] == "in_production", "the order is in production")
    assert line(made)["accepted"] == 400
    history = await market.history(order_id)
    assert len(told(history, "AllocationExpired")) == 1 and "Mebel Jati Jepara" in told(history, "AllocationExpired")[0]
    late = await market.client.post(f"/v1/allocation-requests/{request['id']}/accept", json={}, headers=jepara.headers)
    assert late.status_code == 409


async def test_a_rejected_lot_is_replaced_by_another_workshop_and_provenance_keeps_both(market: Marketplace) -> None:
    standard, jepara, rembang, pool_id = await two_workshops(market)
    order_id = await pooled_order(market, standard, pool_id, 500)
    await market.allocate(pool_id, msmes=2)
    await market.accept(jepara)
    await market.order_where(order_id, lambda o: o["state"] == "in_production", "the order is in production")
    market.later()
    bad = await market.deliver(pool_id, jepara, 500, "JPR-BAD-1")
    market.later()
    judged = await market.inspect(pool_id, bad, standard, major=4)
    assert judged["status"] == "rejected", judged

    replacement = await market.request_for(rembang)
    assert replacement["quantity"] == 500
    reopened = await market.order_where(order_id, lambda o: line(o)["accepted"] == 0, "the returned lot reopens")
    assert reopened["state"] == "in_production" and line(reopened)["delivered"] == 0
    market.later()
    await market.accept(rembang)
    market.later()
    good = await market.deliver(pool_id, rembang, 500, "RBG-GOOD-1")
    market.later()
    assert (await market.inspect(pool_id, good, standard))["status"] == "accepted"
    inspected = await market.order_where(order_id, lambda o: o["state"] == "inspected", "the order is inspected")
    assert (line(inspected)["accepted"], line(inspected)["passed"]) == (500, 500)

    provenance = await market.get(f"/v1/orders/{order_id}/provenance", BUYER)
    lots = {lot["lot_code"]: lot for lot in provenance["lines"][0]["lots"]}
    assert lots["JPR-BAD-1"]["status"] == "returned"
    assert lots["JPR-BAD-1"]["inspections"][0]["verdict"] == "rejected"
    assert lots["JPR-BAD-1"]["inspections"][0]["reasons"]
    assert lots["RBG-GOOD-1"]["status"] == "passed" and lots["RBG-GOOD-1"]["msme"]["name"] == "Jati Rembang"
    history = await market.history(order_id)
    assert len(told(history, "LotRejected")) == 1 and "rejected at normal inspection" in told(history, "LotRejected")[0]
    assert "JPR-BAD-1" in told(history, "LotReturned")[0]
    events = [item["event"] for item in history]
    assert events.index("LotReturned") < events.index("OrderInspected")
