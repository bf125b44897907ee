"""Webhook subscriptions over HTTP: made by an organisation's admins or its keys with ``webhooks:write``, the
secret shown once, read by the organisation's members, hidden from other organisations, changed, rotated and
deleted; event types checked against who receives them."""

from __future__ import annotations

import pytest

from tests.integration.webhooks.conftest import ANA, DEWI, JOOST, KENJI, OPERATOR, Hooks, subscribe
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


async def test_an_admin_subscribes_and_the_secret_is_shown_once(hooks: Hooks) -> None:
    client = hooks.client
    made = await subscribe(client, ANA, hooks.receiver.url(), ["order.confirmed", "order.shipped"], description="ERP")
    secret, view = made["secret"], made["subscription"]
    assert secret.startswith("whsec_") and len(secret) > 40
    assert view["org"] == "rotterdam-home" and view["audience"] == "buyer" and view["enabled"] is True
    assert view["event_types"] == ["order.confirmed", "order.shipped"] and view["version"] == 1
    assert view["health"]["consecutive_failures"] == 0 and view["disabled"] is None

    read = await client.get(f"/v1/webhooks/{view['id']}", headers=JOOST)  # any member reads it
    assert read.status_code == 200 and read.json()["url"] == hooks.receiver.url()
    listed = await client.get("/v1/webhooks", headers=ANA)
    assert [s["id"] for s in listed.json()["items"]] == [view["id"]]
    for answer in (read.text, listed.text):
        assert secret not in answer and secret.removeprefix("whsec_") not in answer


async def test_another_organisation_neither_sees_nor_changes_it(hooks: Hooks) -> None:
    client = hooks.client
    made = await subscribe(client, ANA, hooks.receiver.url(), ["order.confirmed"])
    path = f"/v1/webhooks/{made['subscription']['id']}"
    assert (await client.get(path, headers=KENJI)).status_code == 404
    assert (await client.get(path, headers=DEWI)).status_code == 404
    assert (await client.patch(path, json={"enabled": False}, headers=KENJI)).status_code == 404
    assert (await client.delete(path, headers=KENJI)).status_code == 404
    assert (await client.post(f"{path}/rotate-secret", headers=KENJI)).status_code == 404
    assert (await client.get("/v1/webhooks", headers=KENJI)).json()["items"] == []
    assert (await client.get(path, headers=OPERATOR)).status_code == 200  # operators see every organisation's


async def test_a_member_who_is_not_an_admin_reads_but_does_not_manage(hooks: Hooks) -> None:
    client = hooks.client
    refused = await client.post(
        "/v1/webhooks", json={"url": hooks.receiver.url(), "event_types": ["order.confirmed"]}, headers=JOOST
    )
    assert refused.status_code == 403 and "admin of rotterdam-home" in refused.json()["detail"]
    made = await subscribe(client, ANA, hooks.receiver.url(), ["order.confirmed"])
    path = f"/v1/webhooks/{made['subscription']['id']}"
    assert (await client.patch(path, json={"enabled": False}, headers=JOOST)).status_code == 403
    assert (await client.post(f"{path}/rotate-secret", headers=JOOST)).status_code == 403
    assert (await client.delete(path, headers=JOOST)).status_code == 403
    assert (await client.get(f"{path}/deliveries", headers=JOOST)).status_code == 200


async def test_event_types_must_exist_and_be_the_organisations_to_receive(hooks: Hooks) -> None:
    body = {
        "url": hooks.receiver.url(),
        "event_types": ["order.confirmed", "pool.filled", "order.teleported", "order.confirmed", "webhook.ping"],
    }
    response = await hooks.client.post("/v1/webhooks", json=body, headers=ANA)
    assert response.status_code == 422
    errors = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert set(errors) == {"event_types[1]", "event_types[2]", "event_types[3]", "event_types[4]"}
    assert "for aggregators" in errors["event_types[1]"] and "not an event type" in errors["event_types[2]"]
    assert "twice" in errors["event_types[3]"]
    aggregator = await hooks.client.post(
        "/v1/webhooks", json={"url": hooks.receiver.url(), "event_types": ["order.line_progress"]}, headers=DEWI
    )
    assert aggregator.status_code == 422 and "for buyers" in aggregator.text
    empty = await hooks.client.post("/v1/webhooks", json={"url": hooks.receiver.url(), "event_types": []}, headers=ANA)
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "event_types"


async def test_the_list_of_event_types_says_who_receives_what(hooks: Hooks) -> None:
    response = await hooks.client.get("/v1/webhook-event-types", headers=JOOST)
    assert response.status_code == 200
    assert response.json()["next_cursor"] is None
    types = {t["name"]: t for t in response.json()["items"]}
    assert types["order.confirmed"]["audiences"] == ["aggregator", "buyer"]
    assert types["order.confirmed"]["events"] == ["orders.OrderConfirmed.v1"]
    assert types["order.line_progress"]["audiences"] == ["buyer"]
    assert "pooling.LotPassed.v1" in types["order.line_progress"]["events"]
    assert types["request.accepted"]["audiences"] == ["aggregator"]


async def test_an_update_changes_what_it_names_and_if_match_guards_it(hooks: Hooks) -> None:
    client = hooks.client
    made = await subscribe(client, DEWI, hooks.receiver.url(), ["order.confirmed"])
    path = f"/v1/webhooks/{made['subscription']['id']}"
    changed = await client.patch(
        path, json={"event_types": ["pool.filled", "lot.passed"], "description": "ops"}, headers=DEWI
    )
    assert changed.status_code == 200, changed.text
    view = changed.json()
    assert view["event_types"] == ["pool.filled", "lot.passed"] and view["description"] == "ops"
    assert view["url"] == hooks.receiver.url() and view["version"] == 2
    stale = await client.patch(path, json={"enabled": False}, headers={**DEWI, "If-Match": "1"})
    assert stale.status_code == 412
    unchanged = await client.patch(path, json={"description": "ops"}, headers=DEWI)
    assert unchanged.status_code == 200 and unchanged.json()["version"] == 2
    nulled = await client.patch(path, json={"url": None}, headers=DEWI)
    assert nulled.status_code == 422 and nulled.json()["errors"][0]["field"] == "url"


async def test_a_deleted_subscription_is_gone(hooks: Hooks) -> None:
    client = hooks.client
    made = await subscribe(client, ANA, hooks.receiver.url(), ["order.confirmed"])
    path = f"/v1/webhooks/{made['subscription']['id']}"
    assert (await client.delete(path, headers=ANA)).status_code == 204
    assert (await client.get(path, headers=ANA)).status_code == 404
    assert (await client.delete(path, headers=ANA)).status_code == 404
    assert (await client.get("/v1/webhooks", headers=ANA)).json()["items"] == []


async def test_an_operator_subscribes_for_an_organisation_it_names(hooks: Hooks) -> None:
    body = {"url": hooks.receiver.url(), "event_types": ["order.confirmed"]}
    unnamed = await hooks.client.post("/v1/webhooks", json=body, headers=OPERATOR)
    assert unnamed.status_code == 422
    assert {e["field"] for e in unnamed.json()["errors"]} == {"org", "audience"}
    named = await subscribe(
        hooks.client, OPERATOR, body["url"], body["event_types"], org="osaka-trading", audience="buyer"
    )
    assert named["subscription"]["org"] == "osaka-trading"
    assert [s["id"] for s in (await hooks.client.get("/v1/webhooks", headers=KENJI)).json()["items"]] == [
        named["subscription"]["id"]
    ]
    foreign = await hooks.client.post("/v1/webhooks", json={**body, "org": "osaka-trading"}, headers=ANA)
    assert foreign.status_code == 403


async def test_an_api_key_with_webhooks_write_manages_and_one_with_read_only_reads(hooks: Hooks) -> None:
    client = hooks.client
    keys = "/v1/organisations/rotterdam-home/api-keys"
    writer = await client.post(keys, json={"name": "ERP", "scopes": ["webhooks:write", "webhooks:read"]}, headers=ANA)
    reader = await client.post(keys, json={"name": "dashboard", "scopes": ["webhooks:read"]}, headers=ANA)
    assert writer.status_code == 201 and reader.status_code == 201, writer.text
    write_key = {"Authorization": f"Bearer {writer.json()['key']}"}
    read_key = {"X-API-Key": reader.json()["key"]}

    async def known() -> bool:
        return (await client.get("/v1/webhooks", headers=read_key)).status_code == 200

    await eventually(known)
    made = await subscribe(client, write_key, hooks.receiver.url(), ["order.shipped"])
    assert made["subscription"]["created_by"] == f"key:{writer.json()['api_key']['id']}"
    assert made["subscription"]["org"] == "rotterdam-home"
    listed = await client.get("/v1/webhooks", headers=read_key)
    assert [s["id"] for s in listed.json()["items"]] == [made["subscription"]["id"]]
    body = {"url": hooks.receiver.url(), "event_types": ["order.shipped"]}
    refused = await client.post("/v1/webhooks", json=body, headers=read_key)
    assert refused.status_code == 403 and "webhooks:write" in refused.json()["detail"]
