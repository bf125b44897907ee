"""The webhook refuses what Meta did not sign, changes nothing on a redelivery, follows statuses forward only;
a provider outage delays messages without losing or doubling any; STOP is honoured at once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from tests.integration.flow.marketplace import Marketplace, eventually
from tests.integration.flow.test_shortfalls import pooled_order, two_workshops
from tests.integration.notifications.whatsapp_flow import (
    JEPARA_PHONE,
    WEBHOOK,
    add_contact,
    deliveries,
    jepara_asked_for_500,
    messages_to,
    post_webhook,
    sent_deliveries,
)
from tests.support.whatsapp import (
    VERIFY_TOKEN,
    FakeWhatsApp,
    signed,
    signed_bytes,
    status,
    template_button,
    text_message,
)

pytestmark = pytest.mark.integration


async def inbound_count(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM notifications.inbound_messages"))


async def test_the_verification_handshake_answers_the_challenge_only_with_the_verify_token(
    market: Marketplace, whatsapp: FakeWhatsApp
) -> None:
    query = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}
    answered = await market.client.get(WEBHOOK, params=query)
    assert (answered.status_code, answered.text) == (200, "1158201444")
    assert answered.headers["content-type"].startswith("text/plain")
    wrong = await market.client.get(WEBHOOK, params=query | {"hub.verify_token": "guess"})
    assert wrong.status_code == 403 and wrong.headers["content-type"] == "application/problem+json"
    assert (await market.client.get(WEBHOOK)).status_code == 403


async def test_unsigned_or_wrongly_signed_notifications_are_refused_and_change_nothing(
    market: Marketplace, whatsapp: FakeWhatsApp, pool: asyncpg.Pool
) -> None:
    jepara, request = await jepara_asked_for_500(market, whatsapp)
    reply = template_button(JEPARA_PHONE, f"accept:{request['id']}")

    body, headers = signed(reply)
    unsigned = await market.client.post(WEBHOOK, content=body, headers={"Content-Type": "application/json"})
    forged_body, forged = signed(reply, secret="not-the-app-secret")
    wrong = await market.client.post(WEBHOOK, content=forged_body, headers=forged)
    tampered = await market.client.post(WEBHOOK, content=body.replace(b"accept", b"decline"), headers=headers)
    for refused in (unsigned, wrong, tampered):
        assert refused.status_code == 401 and refused.headers["content-type"] == "application/problem+json"
    malformed = await market.client.post(WEBHOOK, content=b"{not json", headers=signed_bytes(b"{not json"))
    assert malformed.status_code == 400
    too_big = await market.client.post(WEBHOOK, content=b"x" * 300_000, headers=headers)
    assert too_big.status_code == 413
    assert await inbound_count(pool) == 0
    assert (await market.request_for(jepara))["id"] == request["id"], "still pending"
    assert len(whatsapp.messages_to(JEPARA_PHONE)) == 1


async def test_a_redelivered_notification_changes_nothing_and_statuses_only_move_forward(
    market: Marketplace, whatsapp: FakeWhatsApp, pool: asyncpg.Pool
) -> None:
    jepara, request = await jepara_asked_for_500(market, whatsapp)

    reply = template_button(JEPARA_PHONE, f"accept:{request['id']}")
    assert (await post_webhook(market, reply))["stored"] == 1
    assert (await post_webhook(market, reply))["stored"] == 0, "Meta's redelivery"
    await market.request_for(jepara, status="accepted")
    await messages_to(whatsapp, JEPARA_PHONE, 2)
    assert await pool.fetchval("SELECT count(*) FROM notifications.answers") == 1

    (sent, *_) = await sent_deliveries(market, jepara, 2)
    wamid = sent["provider_message_id"]
    for state in ("delivered", "read", "delivered", "sent"):
        await post_webhook(market, status(wamid, state, JEPARA_PHONE, sent["id"]))

    async def processed() -> bool:
        return bool(
            await pool.fetchval("SELECT bool_and(processed_at IS NOT NULL) FROM notifications.inbound_messages")
        )

    await eventually(processed)
    seen = await market.get(f"/v1/deliveries/{sent['id']}", jepara.headers)
    assert seen["status"] == "read" and seen["delivered_at"] and seen["read_at"]
    await eventually(lambda: _no_more_messages(whatsapp, 2), timeout=2)


async def _no_more_messages(whatsapp: FakeWhatsApp, count: int) -> bool:
    assert len(whatsapp.messages_to(JEPARA_PHONE)) == count
    return True


async def test_messages_wait_out_a_provider_outage_and_go_out_once_each(
    market: Marketplace, whatsapp: FakeWhatsApp
) -> None:
    standard, jepara, _, pool_id = await two_workshops(market)
    await add_contact(market, jepara, JEPARA_PHONE)
    whatsapp.status = 503
    await pooled_order(market, standard, pool_id, 500)
    await market.allocate(pool_id, msmes=2)

    async def retrying() -> list[dict[str, Any]] | None:
        log = await deliveries(market, jepara)
        return log if log and log[0]["attempts"] >= 1 and log[0]["status"] == "queued" else None

    (waiting,) = await eventually(retrying, what="the first attempt failed and the message waits for its retry")
    assert "HTTP 503" in waiting["last_error"]
    whatsapp.refuse_connections()
    market.clock.advance(timedelta(seconds=2))

    async def refused() -> bool:
        (row,) = await deliveries(market, jepara)
        return bool(row["attempts"] >= 2 and "Connect" in (row["last_error"] or ""))

    await eventually(refused, what="a second attempt finds nothing listening")
    whatsapp.status = 200
    whatsapp.start()  # back, on the same port
    market.clock.advance(timedelta(minutes=1))
    await messages_to(whatsapp, JEPARA_PHONE)
    (sent,) = await sent_deliveries(market, jepara)
    assert sent["attempts"] >= 3
    market.clock.advance(timedelta(minutes=30))
    await eventually(lambda: _no_more_messages(whatsapp, 1), timeout=2)
    assert whatsapp.refused >= 1


async def test_stop_opts_out_at_once_and_mulai_opts_back_in(
    market: Marketplace, whatsapp: FakeWhatsApp, pool: asyncpg.Pool
) -> None:
    standard, jepara, _, pool_id = await two_workshops(market)
    contact = await add_contact(market, jepara, JEPARA_PHONE)
    await post_webhook(market, text_message(JEPARA_PHONE, "BERHENTI"))
    (confirmation,) = await messages_to(whatsapp, JEPARA_PHONE)
    assert confirmation.text.startswith("Anda tidak akan menerima pesan lagi")
    seen = await market.get(f"/v1/contacts/{contact['id']}", jepara.headers)
    assert seen["opted_in"] is False

    await pooled_order(market, standard, pool_id, 500)
    await market.allocate(pool_id, msmes=2)
    request = await market.request_for(jepara)

    async def seen_by_notifications() -> bool:
        query = "SELECT true FROM notifications.requests WHERE request_id = $1"
        return bool(await pool.fetchval(query, UUID(request["id"])))

    await eventually(seen_by_notifications, what="notifications handled the request (and sent nothing)")
    market.clock.advance(timedelta(minutes=5))
    await eventually(lambda: _no_more_messages(whatsapp, 1), timeout=3)
    assert [d["kind"] for d in await deliveries(market, jepara)] == ["consent"]

    await post_webhook(market, text_message(JEPARA_PHONE, "mulai"))
    back = (await messages_to(whatsapp, JEPARA_PHONE, 2))[1]
    assert back.text.startswith("Anda akan menerima pesan dari Gotong lagi")
    assert (await market.get(f"/v1/contacts/{contact['id']}", jepara.headers))["opted_in"] is True
