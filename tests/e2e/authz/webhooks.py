"""A world's webhooks for the matrix: its buyer and aggregator organisations registered in accounts with the
matrix's callers as their admins, the buyer's subscription with a message in its log, and a spare to delete."""

from __future__ import annotations

from dataclasses import dataclass

from shared.auth import Role
from tests.e2e.authz.world import Client, Orgs, World, call, eventually
from tests.support.app import token

OPERATOR = token(Role.ADMIN, org="gotong-ops", sub="ops")
CLOSED_PORT = 9  # nothing listens there: messages fail and wait, which the matrix does not mind


@dataclass(frozen=True)
class Webhooks:
    webhook_id: str
    spare_webhook_id: str
    message_id: str
    webhook_url: str


def webhook_body(org: str) -> dict[str, object]:
    return {"url": f"http://127.0.0.1:{CLOSED_PORT}/hooks/{org}", "event_types": ["order.confirmed"]}


async def _administer(client: Client, org: str, kind: str, admin: str) -> None:
    """Make ``admin`` an admin of ``org``, registering the organisation unless it is registered already."""
    registered = await client.post(
        "/v1/organisations",
        json={"org": org, "kind": kind, "name": org, "first_admin": {"subject": admin}},
        headers=OPERATOR,
    )
    if registered.status_code == 409:
        member = {"subject": admin, "role": kind, "org_admin": True}
        await call(client, "POST", f"/v1/organisations/{org}/members", OPERATOR, member)
    else:
        assert registered.status_code == 201, registered.text


async def seed_webhooks(client: Client, name: str, orgs: Orgs) -> Webhooks:
    """The buyer's subscription (pinged, so its log holds a message) and a spare, once webhooks knows the admins."""
    buyer = World.caller(orgs, name, Role.BUYER)
    await _administer(client, orgs.buyer, "buyer", f"{Role.BUYER.value}-{name}")
    await _administer(client, orgs.aggregator, "aggregator", f"{Role.AGGREGATOR.value}-{name}")
    body = webhook_body(orgs.buyer)

    async def subscribed() -> str | None:
        response = await client.post("/v1/webhooks", json=body, headers=buyer)
        if response.status_code == 403:  # webhooks has not yet learnt from accounts who the admin is
            return None
        assert response.status_code == 201, response.text
        return str(response.json()["subscription"]["id"])

    webhook_id = await eventually(subscribed, f"world {name}'s buyer subscribing to webhooks")
    spare = await call(client, "POST", "/v1/webhooks", buyer, body)
    pinged = await call(client, "POST", f"/v1/webhooks/{webhook_id}/ping", buyer, expect=202)

    async def logged() -> bool:
        page = await call(client, "GET", f"/v1/webhooks/{webhook_id}/deliveries", buyer, expect=200)
        return any(item["id"] == pinged["id"] for item in page["items"])

    await eventually(logged, f"world {name}'s ping in its delivery log")
    return Webhooks(webhook_id, spare["subscription"]["id"], pinged["id"], str(body["url"]))
