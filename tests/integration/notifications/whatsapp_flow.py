"""Steps of the WhatsApp stories: contacts, the messages the fake Graph API received, Meta's signed webhooks."""

from __future__ import annotations

from typing import Any

from tests.integration.flow.marketplace import Marketplace, Producer, eventually
from tests.integration.flow.test_shortfalls import pooled_order, two_workshops
from tests.support.whatsapp import FakeWhatsApp, Sent, signed

PUBLIC_URL = "https://gotong.example.id"
WEBHOOK = "/v1/channels/whatsapp/webhook"
JEPARA_PHONE = "+6281200000001"
REMBANG_PHONE = "+6281200000002"


async def add_contact(
    market: Marketplace, producer: Producer, phone: str, *, language: str = "id", opted_in: bool = True
) -> dict[str, Any]:
    """The MSME's owner adds its production lead, who agreed to WhatsApp messages (once notifications knows the
    MSME from catalog's events), and waits until the contacts table that sign-in and messages read has them."""
    body = {"name": "Pak Slamet", "role": "production lead", "phone": phone, "language": language,
            "opted_in": opted_in, "opt_in_evidence": "agreed on the onboarding form" if opted_in else None}  # fmt: skip

    async def added() -> dict[str, Any] | None:
        response = await market.client.post(
            f"/v1/msmes/{producer.msme_id}/contacts", json=body, headers=producer.headers
        )
        if response.status_code == 404:
            return None
        assert response.status_code == 201, response.text
        contact: dict[str, Any] = response.json()
        return contact

    contact = await eventually(added, what="notifications knows the MSME and takes its contact")

    async def listed() -> bool:
        shown = await market.client.get(f"/v1/msmes/{producer.msme_id}/contacts", headers=producer.headers)
        assert shown.status_code == 200, shown.text
        return any(item["id"] == contact["id"] for item in shown.json()["items"])

    await eventually(listed, what="notifications' contacts table has the contact")
    return contact


async def messages_to(whatsapp: FakeWhatsApp, phone: str, count: int = 1, what: str = "") -> list[Sent]:
    async def arrived() -> list[Sent] | None:
        sent = whatsapp.messages_to(phone)
        return sent if len(sent) >= count else None

    return await eventually(arrived, what=what or f"{count} WhatsApp message(s) to {phone}")


async def post_webhook(market: Marketplace, payload: dict[str, Any], expect: int = 200) -> Any:
    body, headers = signed(payload)
    response = await market.client.post(WEBHOOK, content=body, headers=headers)
    assert response.status_code == expect, response.text
    return response.json()


async def deliveries(market: Marketplace, producer: Producer) -> list[dict[str, Any]]:
    page = await market.get(f"/v1/deliveries?msme_id={producer.msme_id}", producer.headers)
    items: list[dict[str, Any]] = page["items"]
    return items


async def sent_deliveries(market: Marketplace, producer: Producer, count: int = 1) -> list[dict[str, Any]]:
    """The producer's deliveries once ``count`` of them are recorded as sent. WhatsApp has a message before the
    sender records its answer, so a test that saw the message arrive waits for the record too."""

    async def recorded() -> list[dict[str, Any]] | None:
        items = await deliveries(market, producer)
        return items if sum(item["status"] == "sent" for item in items) >= count else None

    return await eventually(recorded, what=f"{count} deliveries recorded as sent")


async def jepara_asked_for_500(
    market: Marketplace, whatsapp: FakeWhatsApp, *, expires_in: int = 48 * 3600
) -> tuple[Producer, dict[str, Any]]:
    """Jepara's production lead is a contact; a 500-chair order is allocated to Jepara, and the request's message
    has reached WhatsApp. The workshop and its request."""
    standard, jepara, _, pool_id = await two_workshops(market)
    await add_contact(market, jepara, JEPARA_PHONE)
    await pooled_order(market, standard, pool_id, 500)
    await market.allocate(pool_id, msmes=2, expires_in=expires_in)
    request = await market.request_for(jepara)
    await messages_to(whatsapp, JEPARA_PHONE, what="the request reaches Jepara's production lead")
    return jepara, request
