"""Seeding one world through the public API, waiting (bounded) until every service has seen what it needs."""

from __future__ import annotations

from typing import Any

from shared.auth import Role
from tests.e2e.authz.bodies import (
    RATTAN,
    buyer_body,
    first_article_body,
    months_ahead,
    msme_body,
    order_body,
    plot_body,
    pool_body,
    product_body,
    quote_body,
    standard_body,
)
from tests.e2e.authz.webhooks import seed_webhooks
from tests.e2e.authz.world import Client, Orgs, World, call, eventually

UNPOOLED_HS = "460290"  # a line no pool takes: it waits as unmatched demand


async def seed_world(client: Client, name: str, orgs: Orgs, nib: str) -> World:
    """A standard, an MSME with a product and capacity, a judged first article, a buyer with a confirmed order
    (one line pooled, one unmatched) and a quoted spare order, a pool whose proposal sent the MSME a request,
    and the MSME's acceptance; it returns once every service's read models show them."""

    def caller(role: Role) -> dict[str, str]:
        return World.caller(orgs, name, role)

    inspector, msme_user = caller(Role.INSPECTOR), caller(Role.MSME)
    buyer, aggregator = caller(Role.BUYER), caller(Role.AGGREGATOR)
    standard = await call(client, "POST", "/v1/standards", inspector, standard_body(f"Rattan basket, grade {name}"))
    email = f"siti@{orgs.msme}.example"
    msme = await call(client, "POST", "/v1/msmes", msme_user, msme_body(f"Rotan {orgs.msme}", nib, email, orgs.msme))
    contact_phone = f"+62812{int(nib[-8:]):08d}"
    contact, spare_contact = await _contacts(client, msme["id"], msme_user, contact_phone, f"world {name}'s contacts")
    plot = await call(client, "POST", f"/v1/msmes/{msme['id']}/plots", msme_user, plot_body(f"Kebun {name}"))
    products = f"/v1/msmes/{msme['id']}/products"
    product = await call(client, "POST", products, msme_user, product_body("BSK-30", RATTAN, standard["id"]))
    capacity = dict.fromkeys(months_ahead(3), 500)
    declared = f"/v1/products/{product['id']}/capacity"
    catalog = (await call(client, "PUT", declared, msme_user, {"months": capacity}, expect=200))["position"]

    article = first_article_body(msme["id"], product["id"], standard["id"])
    inspection = await call(client, "POST", "/v1/inspections", inspector, article)
    results = f"/v1/inspections/{inspection['id']}/results"
    quality = (await call(client, "POST", results, inspector, {"defects": {"major": 0}}))["position"]

    await call(client, "POST", "/v1/buyers", buyer, buyer_body(f"{orgs.buyer} B.V.", f"anke@{orgs.buyer}.example"))
    pool_name = f"Baskets for {orgs.buyer}, lot {name}"
    pool = await call(client, "POST", "/v1/pools", aggregator, pool_body(pool_name, standard["id"]))
    await call(client, "GET", f"/v1/pools?wait_for_position={pool['position']}", aggregator, expect=200)

    notes = f"cartons of 12, marked {name}-{orgs.buyer}"
    order = await call(client, "POST", "/v1/orders", buyer, order_body(standard["id"], notes, (RATTAN, UNPOOLED_HS)))
    spare = await call(client, "POST", "/v1/orders", buyer, order_body(standard["id"], notes))
    for quoted in (order, spare):
        quote = quote_body(line["line_id"] for line in quoted["lines"])
        await call(client, "POST", f"/v1/orders/{quoted['id']}/quote", aggregator, quote, expect=200)
    confirmed = await call(client, "POST", f"/v1/orders/{order['id']}/confirm", buyer, expect=200)
    pooled, unmatched = (line["line_id"] for line in order["lines"])

    await _pooled(client, pool["id"], unmatched, aggregator, f"world {name}'s confirmed order reaching its pool")
    proposal = await _allocate(client, pool["id"], aggregator, f"world {name}'s MSME being offered supply")
    request_id = proposal["request_ids"][0]
    pooling = await _accept(client, request_id, msme_user)

    await call(client, "GET", f"/v1/products/{product['id']}?wait_for_position={catalog}", buyer, expect=200)
    await call(client, "GET", f"/v1/inspections/{inspection['id']}?wait_for_position={quality}", inspector, expect=200)
    await call(client, "GET", f"/v1/orders/{order['id']}?wait_for_position={confirmed['position']}", buyer, expect=200)
    answered = f"/v1/allocation-requests/{request_id}?wait_for_position={pooling}"
    await call(client, "GET", answered, aggregator, expect=200)
    await _owned(client, inspection["id"], msme_user, f"quality learning who owns world {name}'s MSME")
    delivery_id = await _queued(client, msme["id"], msme_user, f"world {name}'s request queued for its contact")
    webhooks = await seed_webhooks(client, name, orgs)
    return World(
        name=name,
        orgs=orgs,
        standard_id=standard["id"],
        msme_id=msme["id"],
        contact_email=email,
        product_id=product["id"],
        capacity=capacity,
        order_id=order["id"],
        order_line_id=pooled,
        unmatched_line_id=unmatched,
        spare_order_id=spare["id"],
        order_notes=notes,
        pool_id=pool["id"],
        pool_name=pool_name,
        proposal_id=proposal["id"],
        request_id=request_id,
        inspection_id=inspection["id"],
        contact_id=contact,
        spare_contact_id=spare_contact,
        contact_phone=contact_phone,
        delivery_id=delivery_id,
        plot_id=plot["id"],
        webhook_id=webhooks.webhook_id,
        spare_webhook_id=webhooks.spare_webhook_id,
        message_id=webhooks.message_id,
        webhook_url=webhooks.webhook_url,
    )


async def _pooled(client: Client, pool_id: str, unmatched_line_id: str, aggregator: dict[str, str], what: str) -> None:
    """Wait until pooling has put the confirmed order's matching line into the pool and kept the other unmatched."""

    async def arrived() -> bool:
        pool = await call(client, "GET", f"/v1/pools/{pool_id}", aggregator, expect=200)
        waiting = await call(client, "GET", "/v1/unmatched-demand", aggregator, expect=200)
        return pool["demand"] > 0 and any(item["line_id"] == unmatched_line_id for item in waiting["items"])

    await eventually(arrived, what)


async def _owned(client: Client, inspection_id: str, msme_user: dict[str, str], what: str) -> None:
    """Wait until quality knows (from catalog's events) that the inspected MSME is the user's."""

    async def shown() -> bool:
        seen = await call(client, "GET", "/v1/inspections", msme_user, expect=200)
        return any(item["id"] == inspection_id for item in seen["items"])

    await eventually(shown, what)


async def _allocate(client: Client, pool_id: str, aggregator: dict[str, str], what: str) -> dict[str, Any]:
    """Run the engine (sending its requests) until pooling knows the MSME well enough to allocate to it."""
    body = {"allow_probation": True, "send": True, "time_limit_s": 5}

    async def sent() -> dict[str, Any] | None:
        proposal = await call(client, "POST", f"/v1/pools/{pool_id}/allocate", aggregator, body)
        return proposal if proposal["request_ids"] else None

    return await eventually(sent, what)


async def _accept(client: Client, request_id: str, msme_user: dict[str, str]) -> int:
    """Accept the whole request as the MSME, once pooling knows the MSME is the caller's; the store position."""

    async def answered() -> int | None:
        response = await client.post(f"/v1/allocation-requests/{request_id}/accept", json={}, headers=msme_user)
        if response.status_code == 404:  # pooling has not yet learnt from catalog who owns the MSME
            return None
        assert response.status_code == 200, response.text
        position: int = response.json()["position"]
        return position

    return await eventually(answered, "the MSME accepting its allocation request")


async def _contacts(client: Client, msme_id: str, msme_user: dict[str, str], phone: str, what: str) -> tuple[str, str]:
    """The MSME's opted-in WhatsApp contact and a spare one, once notifications knows the MSME from catalog."""
    path = f"/v1/msmes/{msme_id}/contacts"

    async def added(phone: str) -> str | None:
        body = {"name": "Bu Siti", "role": "owner", "phone": phone, "opted_in": True, "opt_in_evidence": "signed form"}
        response = await client.post(path, json=body, headers=msme_user)
        if response.status_code == 404:
            return None
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    contact = await eventually(lambda: added(phone), what)
    spare = await eventually(lambda: added(phone.replace("+62812", "+62819")), what)
    return contact, spare


async def _queued(client: Client, msme_id: str, msme_user: dict[str, str], what: str) -> str:
    """The message the allocation request queued for the MSME's contacts."""

    async def queued() -> str | None:
        page = await call(client, "GET", f"/v1/deliveries?msme_id={msme_id}", msme_user, expect=200)
        return str(page["items"][0]["id"]) if page["items"] else None

    return await eventually(queued, what)
