"""The sign-in message on WhatsApp: the authentication template outside the 24-hour window, the code with its
link as text inside it, the code masked in the outbox once it has gone (sent, or failed for good), and never
readable in the delivery log."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from services.notifications.domain.outbound import MASK
from shared.auth import Role
from tests.integration.phone.conftest import PhonePage
from tests.support.app import token
from tests.support.phone import add_contact, ask_code, code_in, latest_sign_in, link_in
from tests.support.waiting import eventually
from tests.support.whatsapp import signed, text_message

pytestmark = pytest.mark.integration
SARI = "+6281234567001"
ORG = "rotan-cirebon"


async def stored(page: PhonePage) -> tuple[str, str]:
    """The status and the message the outbox keeps of the latest sign-in code."""
    row = await page.pool.fetchrow(
        "SELECT status, message::text AS message FROM notifications.deliveries WHERE kind = 'sign_in_code' "
        "ORDER BY created_at DESC, id DESC LIMIT 1"
    )
    assert row is not None
    return row["status"], row["message"]


async def wrote_to_us(page: PhonePage, phone: str) -> None:
    """The contact writes to the business number, which opens WhatsApp's 24-hour window."""
    body, headers = signed(text_message(phone, "halo"))
    assert (await page.client.post("/v1/channels/whatsapp/webhook", content=body, headers=headers)).status_code == 200

    async def window_open() -> bool:
        sql = "SELECT last_inbound_at IS NOT NULL FROM notifications.conversations WHERE phone = $1"
        return bool(await page.pool.fetchval(sql, phone))

    await eventually(window_open)


async def test_outside_the_window_the_code_goes_as_the_authentication_template_and_is_masked_once_sent(
    page: PhonePage,
) -> None:
    msme = await page.msme(ORG)
    await add_contact(page.client, page.pool, msme, ORG, SARI)
    assert (await ask_code(page.client, SARI)).status_code == 200

    sent = await latest_sign_in(page.pool, page.whatsapp, SARI)
    code = code_in(sent)
    assert sent.kind == "template" and sent.body["template"]["name"] == "gotong_sign_in_code"
    assert sent.body["template"]["language"] == {"code": "id"} and sent.text == code
    assert sent.buttons == [(code, "copy code")] and link_in(sent) is None

    async def masked() -> bool:
        status, message = await stored(page)
        return status == "sent" and code not in message and MASK in message

    await eventually(masked)
    log = await page.client.get(f"/v1/deliveries?msme_id={msme}", headers=token(Role.MSME, org=ORG))
    (item,) = log.json()["items"]
    assert item["kind"] == "sign_in_code" and code not in item["text"]


async def test_inside_the_window_the_code_and_its_link_go_as_text_and_both_are_masked_once_sent(
    page: PhonePage,
) -> None:
    msme = await page.msme(ORG)
    await add_contact(page.client, page.pool, msme, ORG, SARI, language="en")
    await wrote_to_us(page, SARI)
    assert (await ask_code(page.client, SARI)).status_code == 200

    sent = await latest_sign_in(page.pool, page.whatsapp, SARI)
    code, link = code_in(sent), link_in(sent)
    assert sent.kind == "text" and sent.text.startswith(f"Your Gotong sign-in code: {code}. Valid for 10 minutes.")
    assert link is not None and sent.text.endswith(f"https://gotong.example.id{link}")
    assert sent.body["text"]["preview_url"] is False

    async def masked() -> bool:
        status, message = await stored(page)
        token_part = link.rsplit("/", 1)[1]
        return status == "sent" and code not in message and token_part not in message

    await eventually(masked)


async def test_a_code_whatsapp_refuses_for_good_is_masked_and_failed(page: PhonePage) -> None:
    msme = await page.msme(ORG)
    await add_contact(page.client, page.pool, msme, ORG, SARI)
    page.whatsapp.status = 400  # "invalid parameter": trying again cannot help
    assert (await ask_code(page.client, SARI)).status_code == 200

    async def failed() -> bool:
        return (await stored(page))[0] == "failed"

    await eventually(failed)
    _, message = await stored(page)
    assert MASK in message and re.search(r"[0-9]{6}", message) is None
    assert page.whatsapp.refused >= 1 and page.whatsapp.sent == []


async def test_a_code_whatsapp_cannot_take_is_given_up_once_it_has_expired(page: PhonePage) -> None:
    msme = await page.msme(ORG)
    await add_contact(page.client, page.pool, msme, ORG, SARI)
    page.whatsapp.status = 503  # down: tried again with backoff
    assert (await ask_code(page.client, SARI)).status_code == 200

    async def tried() -> bool:
        row = await page.pool.fetchrow("SELECT status, attempts FROM notifications.deliveries")
        return row is not None and row["status"] == "queued" and row["attempts"] >= 1

    await eventually(tried)
    log = await page.client.get(f"/v1/deliveries?msme_id={msme}", headers=token(Role.MSME, org=ORG))
    assert MASK in log.json()["items"][0]["text"]  # queued, yet the log shows no code to sign in with

    page.clock.advance(timedelta(minutes=10, seconds=1))

    async def given_up() -> bool:
        return (await stored(page))[0] == "failed"

    await eventually(given_up)
    _, message = await stored(page)
    assert MASK in message and page.whatsapp.sent == []
