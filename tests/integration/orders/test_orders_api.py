"""The orders API over HTTP: requesting, quoting, confirming, cancelling and who may do and see what."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from services.orders.app import service
from tests.conftest import Servers
from tests.integration.orders.support import (
    ADMIN,
    AGGREGATOR,
    BUYER,
    MSME,
    OTHER_AGGREGATOR,
    OTHER_BUYER,
    PUBLISHED,
    Client,
    new_order,
    order_body,
    quote_body,
    quoted_order,
    register_buyer,
)
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


async def test_a_buyer_requests_an_order_and_reads_it_back(client: Client) -> None:
    created = await new_order(client)
    assert created["state"] == "requested" and created["version"] == 1 and created["position"] > 0
    assert created["buyer_org"] == "rotterdam-home" and created["aggregator_org"] is None
    assert [line["quantity"] for line in created["lines"]] == [20000, 5000]
    assert created["lines"][0]["target_unit_price"] == {"amount": "3.20", "currency": "USD"}
    read = await client.get(f"/v1/orders/{created['id']}?wait_for_position={created['position']}", headers=BUYER)
    assert read.status_code == 200, read.text
    body = read.json()
    assert body["state"] == "requested" and body["lines"][1]["description"] == "rattan tray, 40 x 30 cm"
    assert body["lines"][0]["progress"] == {"allocated": 0, "accepted": 0, "delivered": 0, "passed": 0, "shipped": 0}
    assert body["destination_port"] == "NLRTM" and body["loading_port"] == "IDTPP"


async def test_a_repeated_idempotency_key_creates_one_order(client: Client) -> None:
    headers = {**BUYER, "Idempotency-Key": "rotterdam-po-4711"}
    first = await client.post("/v1/orders", json=order_body(), headers=headers)
    again = await client.post("/v1/orders", json=order_body(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    listed = await client.get(f"/v1/orders?wait_for_position={first.json()['position']}", headers=BUYER)
    assert [o["id"] for o in listed.json()["items"]] == [first.json()["id"]]
    reused = await client.post("/v1/orders", json=order_body(notes="other"), headers=headers)
    assert reused.status_code == 422 and reused.json()["errors"][0]["field"] == "Idempotency-Key"


async def test_an_unregistered_buyer_organisation_cannot_order(client: Client) -> None:
    response = await client.post("/v1/orders", json=order_body(), headers=OTHER_BUYER)
    assert response.status_code == 409
    assert response.json()["type"] == "/problems/buyer-not-registered"


async def test_malformed_fields_are_each_named(client: Client) -> None:
    body = order_body(incoterm="FOBX", destination_country="nl", required_by="31-03-2027", colour="red")
    body["lines"][0].update(quantity=0, hs_code="4602", unit="pcs", target_unit_price={"amount": "x", "currency": "US"})
    body["lines"][1].update(quantity=1.5)
    response = await client.post("/v1/orders", json=body, headers=BUYER)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {
        "incoterm",
        "destination_country",
        "required_by",
        "colour",
        "lines[0].quantity",
        "lines[0].hs_code",
        "lines[0].unit",
        "lines[0].target_unit_price.amount",
        "lines[0].target_unit_price.currency",
        "lines[1].quantity",
    }


async def test_well_formed_but_unacceptable_fields_are_each_named(client: Client) -> None:
    body = order_body(destination_country="XX", destination_port=None, required_by="2020-01-01", loading_port="IDZZZ")
    body["lines"][0].update(unit="ZZZ", target_unit_price={"amount": "3.205", "currency": "USD"})
    body["lines"][1].update(target_unit_price={"amount": "-2", "currency": "ABC"})
    response = await client.post("/v1/orders", json=body, headers=BUYER)
    assert response.status_code == 422, response.text
    errors = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert set(errors) == {
        "destination_country",
        "destination_port",
        "required_by",
        "loading_port",
        "lines[0].unit",
        "lines[0].target_unit_price.amount",
        "lines[1].target_unit_price.amount",
        "lines[1].target_unit_price.currency",
    }
    assert "sea-only" in errors["destination_port"]
    no_lines = await client.post("/v1/orders", json=order_body(lines=[]), headers=BUYER)
    assert no_lines.status_code == 422 and no_lines.json()["errors"][0]["field"] == "lines"
    wrong_port = await client.post("/v1/orders", json=order_body(destination_port="DEHAM"), headers=BUYER)
    assert wrong_port.status_code == 422 and "not in the destination country" in wrong_port.text


async def test_roles_that_never_order_or_quote_are_refused(client: Client) -> None:
    order = await new_order(client)
    assert (await client.post("/v1/orders", json=order_body(), headers=AGGREGATOR)).status_code == 403
    assert (await client.get("/v1/orders", headers=MSME)).status_code == 403
    assert (await client.get(f"/v1/orders/{order['id']}", headers=MSME)).status_code == 403
    buyer_quoting = await client.post(f"/v1/orders/{order['id']}/quote", json=quote_body(order), headers=BUYER)
    assert buyer_quoting.status_code == 403
    assert (await client.post(f"/v1/orders/{order['id']}/confirm", headers=AGGREGATOR)).status_code == 403


async def test_another_buyer_sees_nothing_of_an_order(client: Client) -> None:
    await register_buyer(client, OTHER_BUYER, name="Osaka Trading K.K.")
    order = await quoted_order(client)
    url = f"/v1/orders/{order['id']}"
    await client.get(f"{url}?wait_for_position={order['position']}", headers=BUYER)
    for response in (
        await client.get(url, headers=OTHER_BUYER),
        await client.get(f"{url}/history", headers=OTHER_BUYER),
        await client.get(f"{url}/events", headers=OTHER_BUYER),
        await client.post(f"{url}/confirm", headers=OTHER_BUYER),
        await client.post(f"{url}/cancel", json={"reason": "mine now"}, headers=OTHER_BUYER),
        await client.post(f"{url}/deliver", headers=OTHER_BUYER),
    ):
        assert response.status_code == 404, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    listed = await client.get("/v1/orders", headers=OTHER_BUYER)
    assert listed.json()["items"] == []
    assert (await client.get(url, headers=ADMIN)).status_code == 200


async def test_aggregators_see_open_orders_and_only_the_ones_they_quoted(client: Client) -> None:
    order = await new_order(client)
    url = f"/v1/orders/{order['id']}"
    assert (
        await client.get(f"{url}?wait_for_position={order['position']}", headers=OTHER_AGGREGATOR)
    ).status_code == 200
    quoted = await client.post(f"{url}/quote", json=quote_body(order), headers=AGGREGATOR)
    assert quoted.status_code == 200 and quoted.json()["aggregator_org"] == "cirebon-rattan"
    position = quoted.json()["position"]
    assert (await client.get(f"{url}?wait_for_position={position}", headers=AGGREGATOR)).status_code == 200
    assert (await client.get(url, headers=OTHER_AGGREGATOR)).status_code == 404
    competing = await client.post(f"{url}/quote", json=quote_body(order), headers=OTHER_AGGREGATOR)
    assert competing.status_code == 404
    assert (await client.get("/v1/orders", headers=OTHER_AGGREGATOR)).json()["items"] == []
    mine = await client.get("/v1/orders", headers=AGGREGATOR)
    assert [o["id"] for o in mine.json()["items"]] == [order["id"]]


async def test_quote_requote_and_confirm(client: Client) -> None:
    order = await quoted_order(client)
    url = f"/v1/orders/{order['id']}"
    assert order["state"] == "quoted" and order["quote"]["number"] == 1 and order["version"] == 2
    assert order["lines"][0]["quoted_unit_price"] == {"amount": "3.05", "currency": "USD"}
    requote = quote_body(order, valid_for=timedelta(days=3))
    requote["lines"][0]["unit_price"]["amount"] = "2.95"
    second = await client.post(f"{url}/quote", json=requote, headers=AGGREGATOR)
    assert second.status_code == 200 and second.json()["quote"]["number"] == 2
    stale = await client.post(f"{url}/confirm?quote_number=1", headers=BUYER)
    assert stale.status_code == 409 and stale.json()["type"] == "/problems/quote-superseded"
    confirmed = await client.post(f"{url}/confirm?quote_number=2", headers=BUYER)
    assert confirmed.status_code == 200, confirmed.text
    body = confirmed.json()
    assert body["state"] == "confirmed" and body["version"] == 4 and body["aggregator_org"] == "cirebon-rattan"
    assert body["lines"][0]["quoted_unit_price"]["amount"] == "2.95"
    again = await client.post(f"{url}/confirm", headers=BUYER)
    assert again.status_code == 409
    assert again.json()["type"] == "/problems/illegal-transition" and again.json()["state"] == "confirmed"
    not_shipped = await client.post(f"{url}/deliver", headers=BUYER)
    assert not_shipped.status_code == 409 and not_shipped.json()["state"] == "confirmed"


async def test_bad_quotes_name_each_field(client: Client) -> None:
    order = await new_order(client)
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    body = {
        "lines": [{"line_id": order["lines"][0]["line_id"], "unit_price": {"amount": "0", "currency": "USD"}}],
        "lead_time_days": 0,
        "valid_until": "2027-01-01T00:00:00",
    }
    response = await client.post(f"/v1/orders/{order['id']}/quote", json=body, headers=AGGREGATOR)
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"lead_time_days", "valid_until"}
    body.update(lead_time_days=30, valid_until=past)
    response = await client.post(f"/v1/orders/{order['id']}/quote", json=body, headers=AGGREGATOR)
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"lines[0].unit_price.amount", "lines", "valid_until"}


async def test_cancelling_records_the_reason_and_consequences_and_is_final(client: Client) -> None:
    order = await quoted_order(client)
    url = f"/v1/orders/{order['id']}"
    await client.post(f"{url}/confirm", headers=BUYER)
    missing_reason = await client.post(f"{url}/cancel", json={"reason": ""}, headers=BUYER)
    assert missing_reason.status_code == 422 and missing_reason.json()["errors"][0]["field"] == "reason"
    cancelled = await client.post(f"{url}/cancel", json={"reason": "the range was dropped"}, headers=BUYER)
    assert cancelled.status_code == 200, cancelled.text
    cancellation = cancelled.json()["cancellation"]
    assert cancelled.json()["state"] == "cancelled"
    assert cancellation["previous_state"] == "confirmed" and cancellation["reason"] == "the range was dropped"
    assert cancellation["consequences"] == ["open demand is withdrawn from pooling"]
    again = await client.post(f"{url}/cancel", json={"reason": "twice"}, headers=BUYER)
    assert again.status_code == 409 and again.json()["state"] == "cancelled"
    quote_after = await client.post(f"{url}/quote", json=quote_body(order), headers=AGGREGATOR)
    assert quote_after.status_code == 409 and quote_after.json()["type"] == "/problems/illegal-transition"


async def test_if_match_makes_a_command_conditional(client: Client) -> None:
    order = await quoted_order(client)
    url = f"/v1/orders/{order['id']}"
    stale = await client.post(f"{url}/confirm", headers={**BUYER, "If-Match": "1"})
    assert stale.status_code == 412 and stale.json()["version"] == 2
    fresh = await client.post(f"{url}/confirm", headers={**BUYER, "If-Match": "2"})
    assert fresh.status_code == 200 and fresh.json()["version"] == 3


async def test_history_tells_when_who_and_what(client: Client) -> None:
    order = await quoted_order(client)
    url = f"/v1/orders/{order['id']}"
    await client.post(f"{url}/confirm", headers=BUYER)
    response = await client.get(f"{url}/history", headers=AGGREGATOR)
    assert response.status_code == 200
    items = response.json()["items"]
    assert [i["event"] for i in items] == ["OrderRequested", "OrderQuoted", "OrderConfirmed"]
    assert [i["actor"] for i in items] == ["buyer:ana", "aggregator:dewi", "buyer:ana"]
    assert [i["version"] for i in items] == [1, 2, 3]
    assert items[0]["summary"].startswith("Requested 2 lines by buyer rotterdam-home, FOB to NL (NLRTM)")
    assert items[1]["summary"].startswith("Quoted 2 lines by aggregator cirebon-rattan (quote 1), lead time 45 days")
    assert "valid until" in items[1]["summary"]
    assert items[2]["summary"] == ("Confirmed quote 1 of aggregator cirebon-rattan: 2 lines worth USD 76,250.00")
    assert all(datetime.fromisoformat(i["at"]).tzinfo is not None for i in items)


async def test_every_route_is_documented_with_its_problem_responses(client: Client) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    paths = schema["paths"]
    for path in (
        "/v1/buyers",
        "/v1/buyers/{org}",
        "/v1/orders",
        "/v1/orders/{order_id}",
        "/v1/orders/{order_id}/quote",
        "/v1/orders/{order_id}/confirm",
        "/v1/orders/{order_id}/cancel",
        "/v1/orders/{order_id}/deliver",
        "/v1/orders/{order_id}/history",
        "/v1/orders/{order_id}/events",
    ):
        assert path in paths, path
    assert {"404", "409", "412", "422"} <= set(paths["/v1/orders/{order_id}/quote"]["post"]["responses"])
    assert {"403", "409", "422"} <= set(paths["/v1/orders"]["post"]["responses"])


async def test_the_answers_of_registering_a_buyer_and_requesting_an_order_are_described(client: Client) -> None:
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    for path, view in (("/v1/buyers", "BuyerView"), ("/v1/orders", "OrderView")):
        created = paths[path]["post"]["responses"]["201"]
        assert created["content"]["application/json"]["schema"]["$ref"].endswith(view), (path, created)
        assert "requestBody" in paths[path]["post"], path
