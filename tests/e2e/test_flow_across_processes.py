"""The whole flow over HTTP with catalog, orders, pooling and quality each in its own `gotong serve` process, one
PostgreSQL and one NATS between them: an order from request to shipment, and the main ways supply falls short."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import httpx
import pytest

from tests.e2e.market import Gotong, Market, Weaver, eventually
from tests.e2e.processes import GotongProcess

pytestmark = pytest.mark.e2e
EXPIRES_IN = 3
"""Seconds an allocation request waits for its answer in the expiry story (the real clock runs)."""


@pytest.fixture(scope="module")
async def gotong(services: dict[str, GotongProcess]) -> AsyncIterator[Gotong]:
    async with httpx.AsyncClient(timeout=60) as client:
        yield await Gotong.of(client, {name: served.url for name, served in services.items()})


@pytest.fixture
def market(gotong: Gotong) -> Market:
    return Market(gotong)


async def test_each_service_answers_only_for_its_own_resources(gotong: Gotong) -> None:
    served = {path: gotong.url_of(path) for path in ("/v1/msmes", "/v1/orders", "/v1/pools", "/v1/standards")}
    assert len(set(served.values())) == 4
    assert gotong.url_of("/v1/msmes/0/quality") != gotong.url_of("/v1/msmes/0")


async def test_a_connection_left_idle_past_five_seconds_is_still_answered_on(
    services: dict[str, GotongProcess],
) -> None:
    """A client (or a proxy) reuses its idle connections: the server must not close one just as it is used again."""
    address = urlsplit(services["catalog"].url)
    assert address.hostname is not None and address.port is not None
    reader, writer = await asyncio.open_connection(address.hostname, address.port)
    request = f"GET /health HTTP/1.1\r\nHost: {address.netloc}\r\n\r\n".encode()
    try:
        for wait in (0, 6):  # uvicorn closes a connection idle for 5 s unless told otherwise
            await asyncio.sleep(wait)
            writer.write(request)
            await writer.drain()
            status = await asyncio.wait_for(reader.readline(), timeout=30)
            assert status.startswith(b"HTTP/1.1 200"), status
            headers = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(h.split(b":")[1]) for h in headers.split(b"\r\n") if h.lower().startswith(b"content-length")
            )
            await reader.readexactly(length)
    finally:
        writer.close()


async def test_an_order_goes_from_request_to_shipment_with_its_history_and_provenance(market: Market) -> None:
    standard = await market.standard()
    cheap = await market.weaver(standard, price="3.20", monthly=300)
    dear = await market.weaver(standard, price="3.60", monthly=400, city="Tasikmalaya")
    pool_id = await market.pool(standard)
    order = await market.confirmed_order(standard, 1_500)
    await market.pool_where(pool_id, lambda p: p["demand"] == 1_500, "the confirmed order joins the pool")

    proposal = await market.allocate(pool_id, 1_500)
    shares = {a["msme_id"]: a["quantity"] for a in proposal["allocations"]}
    assert shares == {cheap.msme_id: 900, dear.msme_id: 600}
    assert await eventually(lambda: market.accept_all(cheap), "the cheap weaver's request") == 900
    assert await eventually(lambda: market.accept_all(dear), "the dear weaver's request") == 600
    in_production = await market.order_where(order["id"], lambda o: o["state"] == "in_production", "in production")
    assert in_production["lines"][0]["progress"]["accepted"] == 1_500
    await eventually(lambda: _committed(market, cheap, 900), "catalog shows the cheap weaver's capacity committed")

    lots = [
        await market.deliver(pool_id, cheap, 900, "CRB-001"),
        await market.deliver(pool_id, dear, 600, "TSK-001"),
    ]
    for lot in lots:
        assert (await market.inspect(pool_id, lot, standard))["status"] == "accepted"
    await market.pool_where(pool_id, lambda p: p["status"] == "filled", "the pool is filled")
    await market.order_where(order["id"], lambda o: o["state"] == "inspected", "inspected")

    consignment = await market.gotong.post(f"/v1/pools/{pool_id}/ship", market.aggregator)
    assert consignment["quantity"] == 1_500 and not consignment["partial"]
    shipped = await market.order_where(order["id"], lambda o: o["state"] == "shipped", "shipped")
    assert shipped["consignment_id"] == consignment["id"]
    progress = shipped["lines"][0]["progress"]
    assert [progress[m] for m in ("accepted", "delivered", "passed", "shipped")] == [1_500] * 4

    history = await market.gotong.get(f"/v1/orders/{order['id']}/history", market.buyer)
    milestones = [item["event"] for item in history["items"] if item["event"].startswith("Order")]
    assert milestones == [
        "OrderRequested", "OrderQuoted", "OrderConfirmed", "OrderInProduction", "OrderInspected", "OrderShipped",
    ]  # fmt: skip
    told = [(item["event"], item["summary"]) for item in history["items"]]
    for event in ("LotReceived", "LotAccepted", "LotPassed"):  # pooling's and quality's, in whatever order they came
        lots = sorted(code for code in ("CRB-001", "TSK-001") for e, s in told if e == event and f"Lot {code} " in s)
        assert lots == ["CRB-001", "TSK-001"], (event, told)
    provenance = await market.gotong.get(f"/v1/orders/{order['id']}/provenance", market.buyer)
    (line,) = provenance["lines"]
    assert line["shipped"] == 1_500 and [c["consignment_id"] for c in line["consignments"]] == [consignment["id"]]
    origins = {lot["lot_code"]: (lot["msme"]["msme_id"], lot["inspections"][0]["verdict"]) for lot in line["lots"]}
    assert origins == {"CRB-001": (cheap.msme_id, "accepted"), "TSK-001": (dear.msme_id, "accepted")}


async def test_a_decline_and_an_expiry_are_re_allocated_to_another_weaver(market: Market) -> None:
    standard = await market.standard()
    declining = await market.weaver(standard, price="3.00", monthly=300)
    silent = await market.weaver(standard, price="3.20", monthly=100)
    spare = await market.weaver(standard, price="4.00", monthly=600)
    pool_id = await market.pool(standard)
    order = await market.confirmed_order(standard, 1_200)
    await market.pool_where(pool_id, lambda p: p["demand"] == 1_200, "the confirmed order joins the pool")

    proposal = await market.allocate(pool_id, 1_200, expires_in=EXPIRES_IN)
    shares = {a["msme_id"]: a["quantity"] for a in proposal["allocations"]}
    assert shares == {declining.msme_id: 900, silent.msme_id: 300}
    (request,) = await eventually(lambda: market.requests(declining), "the declining weaver's request")
    decline = {"reason": "the cane harvest is late"}
    await market.gotong.post(f"/v1/allocation-requests/{request['id']}/decline", declining.headers, decline, expect=200)

    async def spare_took_everything() -> bool:
        await market.accept_all(spare)
        return bool((await market.pool_state(pool_id))["accepted"] == 1_200)

    await eventually(spare_took_everything, "the spare weaver is asked for both shortfalls and accepts", 60)
    pool = await market.pool_state(pool_id)
    set_aside = {s["msme_id"]: s["reason"] for s in pool["set_aside"]}
    assert set_aside == {declining.msme_id: "declined", silent.msme_id: "expired"}
    assert await market.requests(silent) == [] and await market.requests(silent, status="expired")
    assert {s["msme_id"]: s["accepted"] for s in pool["msmes"] if s["accepted"]} == {spare.msme_id: 1_200}
    proposals = await market.gotong.get(f"/v1/pools/{pool_id}/proposals", market.aggregator)
    triggers = [p["trigger"] for p in proposals["items"]]
    assert any("declined" in t for t in triggers) and any("expire" in t for t in triggers), triggers
    await market.order_where(order["id"], lambda o: o["state"] == "in_production", "in production")


async def test_a_rejected_lot_is_replaced_by_another_weaver_and_the_order_still_ships(market: Market) -> None:
    standard = await market.standard()
    careless = await market.weaver(standard, price="3.00", monthly=300)
    careful = await market.weaver(standard, price="3.50", monthly=300)
    pool_id = await market.pool(standard)
    order = await market.confirmed_order(standard, 600)
    await market.pool_where(pool_id, lambda p: p["demand"] == 600, "the confirmed order joins the pool")
    await market.allocate(pool_id, 600)
    await eventually(lambda: market.accept_all(careless), "the careless weaver accepts")
    lot = await market.deliver(pool_id, careless, 600, "CRB-BAD")
    judged = await market.inspect(pool_id, lot, standard, reject=True)
    assert judged["status"] == "rejected"

    await eventually(lambda: market.accept_all(careful), "the careful weaver is asked for the rejected units")
    replacement = await market.deliver(pool_id, careful, 600, "CRB-GOOD")
    assert (await market.inspect(pool_id, replacement, standard))["status"] == "accepted"
    filled = await market.pool_where(pool_id, lambda p: p["status"] == "filled", "the pool is filled")
    assert (filled["passed"], filled["returned"]) == (600, 600)
    await market.gotong.post(f"/v1/pools/{pool_id}/ship", market.aggregator)
    await market.order_where(order["id"], lambda o: o["state"] == "shipped", "shipped")

    provenance = await market.gotong.get(f"/v1/orders/{order['id']}/provenance", market.buyer)
    lots = {lot["lot_code"]: lot for lot in provenance["lines"][0]["lots"]}
    assert lots["CRB-BAD"]["status"] == "returned" and lots["CRB-BAD"]["inspections"][0]["verdict"] == "rejected"
    assert lots["CRB-GOOD"]["msme"]["msme_id"] == careful.msme_id and lots["CRB-GOOD"]["consignment_id"]


async def test_a_cancelled_order_releases_what_the_weaver_booked(market: Market) -> None:
    standard = await market.standard()
    weaver = await market.weaver(standard, price="3.10", monthly=300)
    pool_id = await market.pool(standard)
    order = await market.confirmed_order(standard, 600)
    await market.pool_where(pool_id, lambda p: p["demand"] == 600, "the confirmed order joins the pool")
    await market.allocate(pool_id, 600)
    await eventually(lambda: market.accept_all(weaver), "the weaver accepts")
    await eventually(lambda: _committed(market, weaver, 600), "catalog shows 600 units committed")
    await market.order_where(order["id"], lambda o: o["state"] == "in_production", "in production")

    cancel = {"reason": "the retailer dropped the basket range"}
    cancelled = await market.gotong.post(f"/v1/orders/{order['id']}/cancel", market.buyer, cancel, expect=200)
    assert cancelled["state"] == "cancelled"

    await eventually(lambda: _committed(market, weaver, 0), "catalog shows the capacity free again")
    pool = await market.pool_where(pool_id, lambda p: p["demand"] == 0, "the order leaves the pool")
    assert (pool["accepted"], pool["requested"]) == (0, 0)
    (released,) = await market.requests(weaver, status="accepted")
    assert released["accepted"] == 0 and "the retailer dropped the basket range" in released["answer"]


async def _committed(market: Market, weaver: Weaver, units: int) -> bool:
    return await market.committed(weaver) == units
