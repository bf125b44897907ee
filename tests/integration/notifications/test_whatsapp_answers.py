"""MSMEs answer allocation requests on WhatsApp: a request becomes a message with three buttons, a signed
button reply becomes the same accept the API runs, and the MSME is told what happened, in its language."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.integration.flow.marketplace import Marketplace
from tests.integration.flow.test_shortfalls import pooled_order, two_workshops
from tests.integration.notifications.whatsapp_flow import (
    JEPARA_PHONE,
    PUBLIC_URL,
    REMBANG_PHONE,
    add_contact,
    messages_to,
    post_webhook,
    sent_deliveries,
)
from tests.support.whatsapp import FakeWhatsApp, template_button, text_message

pytestmark = pytest.mark.integration


async def test_a_request_is_sent_on_whatsapp_and_a_button_reply_accepts_it(
    market: Marketplace, whatsapp: FakeWhatsApp
) -> None:
    standard, jepara, _, pool_id = await two_workshops(market)
    await add_contact(market, jepara, JEPARA_PHONE)
    await pooled_order(market, standard, pool_id, 500)
    await market.allocate(pool_id, msmes=2)
    request = await market.request_for(jepara)

    (message,) = await messages_to(whatsapp, JEPARA_PHONE, what="the request reaches Jepara's production lead")
    assert message.kind == "template", "no message from the MSME yet: outside the 24-hour window"
    rid = request["id"]
    assert [payload for payload, _ in message.buttons] == [f"accept:{rid}", f"part:{rid}", f"decline:{rid}"]
    assert message.body["template"]["language"]["code"] == "id"
    assert "500 PCE Teak garden chair" in message.text

    await post_webhook(market, template_button(JEPARA_PHONE, f"accept:{rid}", "Terima semua"))
    accepted = await market.request_for(jepara, status="accepted")
    assert accepted["id"] == rid and accepted["accepted"] == 500

    reply = (await messages_to(whatsapp, JEPARA_PHONE, 2, "the answer's outcome"))[1]
    assert reply.kind == "text", "the MSME just wrote: inside the window, a plain message"
    assert reply.text.startswith("Diterima 500 dari 500")
    assert f"{PUBLIC_URL}/m/requests/{rid}" in reply.text
    log = await sent_deliveries(market, jepara, 2)
    assert [d["kind"] for d in log] == ["request", "answer_outcome"]
    assert all(d["provider_message_id"].startswith("wamid.") for d in log)
    assert whatsapp.messages_to(REMBANG_PHONE) == []


async def test_a_decline_on_whatsapp_re_allocates_and_the_next_workshop_is_told_in_english(
    market: Marketplace, whatsapp: FakeWhatsApp
) -> None:
    standard, jepara, rembang, pool_id = await two_workshops(market)
    await add_contact(market, jepara, JEPARA_PHONE)
    await add_contact(market, rembang, REMBANG_PHONE, language="en")
    await pooled_order(market, standard, pool_id, 500)
    await market.allocate(pool_id, msmes=2)
    await messages_to(whatsapp, JEPARA_PHONE)

    market.later()
    await post_webhook(market, text_message(JEPARA_PHONE, "tolak 🙏"))
    await market.request_for(jepara, status="declined")
    replacement = await market.request_for(rembang)

    (resent,) = await messages_to(whatsapp, REMBANG_PHONE, what="the re-allocated request reaches Rembang")
    assert "Request re-sent after a re-allocation" in resent.text
    assert resent.buttons[0][0] == f"accept:{replacement['id']}"
    told = (await messages_to(whatsapp, JEPARA_PHONE, 2, "Jepara is told its decline was taken"))[1]
    assert told.text.startswith("Permintaan ditolak")

    # Rembang writes first, then taps "Accept part" on the interactive message and types a number
    market.later()
    await post_webhook(market, text_message(REMBANG_PHONE, "hello?"))
    unclear = (await messages_to(whatsapp, REMBANG_PHONE, 2))[1]
    assert unclear.text.startswith("Sorry, we did not understand")
    await post_webhook(market, template_button(REMBANG_PHONE, f"part:{replacement['id']}"))
    asked = (await messages_to(whatsapp, REMBANG_PHONE, 3))[2]
    assert asked.text.startswith("How many can you make?")
    await post_webhook(market, text_message(REMBANG_PHONE, "300"))
    accepted = await market.request_for(rembang, status="accepted")
    assert accepted["accepted"] == 300
    outcome = (await messages_to(whatsapp, REMBANG_PHONE, 4))[3]
    assert outcome.text.startswith("Accepted 300 of 500")


async def test_an_answer_to_an_expired_request_or_from_a_stranger_changes_nothing_and_gets_a_polite_reply(
    market: Marketplace, whatsapp: FakeWhatsApp
) -> None:
    standard, jepara, _, pool_id = await two_workshops(market)
    await add_contact(market, jepara, JEPARA_PHONE)
    await pooled_order(market, standard, pool_id, 400)
    await market.allocate(pool_id, msmes=2, expires_in=60)
    request = await market.request_for(jepara)
    await messages_to(whatsapp, JEPARA_PHONE)

    stranger = "+6289900000009"
    await post_webhook(market, template_button(stranger, f"accept:{request['id']}"))
    await post_webhook(market, text_message(JEPARA_PHONE, "🙂🙂🙂"))
    unclear = (await messages_to(whatsapp, JEPARA_PHONE, 2, "a polite answer to emoji"))[1]
    assert unclear.text.startswith("Maaf, kami tidak mengerti")
    await post_webhook(market, template_button(JEPARA_PHONE, "accept:not-a-request"))
    await messages_to(whatsapp, JEPARA_PHONE, 3, "a polite answer to an unknown button")

    market.clock.advance(timedelta(seconds=61))
    await market.request_for(jepara, status="expired")
    await post_webhook(market, template_button(JEPARA_PHONE, f"accept:{request['id']}"))
    refused = (await messages_to(whatsapp, JEPARA_PHONE, 4, "the answer's refusal"))[3]
    assert refused.text.startswith("Jawaban tidak bisa diproses: permintaan ini sudah")
    assert (await market.request_for(jepara, status="expired"))["id"] == request["id"]
    assert whatsapp.messages_to(stranger) == []
