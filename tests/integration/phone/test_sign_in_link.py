"""Signing in by the link that comes with the code: its GET only shows a button (a link previewer uses nothing
up), the button's POST signs in, once, within the code's 10 minutes, and only while it is the latest."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from tests.integration.phone.conftest import PhonePage
from tests.integration.phone.test_sign_in_message import ORG, SARI, wrote_to_us
from tests.support.phone import add_contact, ask_code, code_in, csrf_of, latest_sign_in, link_in

pytestmark = pytest.mark.integration


async def a_link(page: PhonePage, language: str = "id") -> tuple[str, str]:
    """Sari, a contact who wrote to us today, asks for a code: the path of the link it came with, and the code."""
    if not await page.pool.fetchval("SELECT count(*) FROM notifications.contacts WHERE phone = $1", SARI):
        msme = await page.msme(ORG)
        await add_contact(page.client, page.pool, msme, ORG, SARI, language=language)
        await page.request(msme)
        await wrote_to_us(page, SARI)
    assert (await ask_code(page.client, SARI)).status_code == 200
    sent = await latest_sign_in(page.pool, page.whatsapp, SARI)
    link = link_in(sent)
    assert link is not None, sent.text
    return link, code_in(sent)


async def confirm(client: httpx.AsyncClient, link: str) -> tuple[httpx.Response, httpx.Response]:
    """Open the link, as the contact does, and press its button."""
    shown = await client.get(link)
    return shown, await client.post(link, data={"csrf": csrf_of(shown.text)})


async def test_looking_at_a_link_uses_nothing_up_and_its_button_signs_in(page: PhonePage) -> None:
    link, _ = await a_link(page)
    for _ in range(3):  # WhatsApp's link preview, a virus scanner, the contact's own glance
        looked = await page.client.get(link)
        assert looked.status_code == 200 and "+62••••7001" in looked.text and SARI not in looked.text
        assert looked.headers["cache-control"] == "no-store"
        assert "gotong_m=" not in looked.headers.get("set-cookie", "")
    assert await page.pool.fetchval("SELECT count(*) FROM notifications.sessions") == 0

    shown, entered = await confirm(page.client, link)
    assert "Masuk ke Gotong sebagai" in shown.text and 'method="post"' in shown.text
    assert entered.status_code == 303 and entered.headers["location"] == "/m/"
    assert "gotong_m=" in entered.headers.get("set-cookie", "")
    inbox = await page.client.get("/m/")
    assert inbox.status_code == 200 and "Keranjang rotan" in inbox.text


async def test_a_link_works_once_and_uses_up_its_code(page: PhonePage) -> None:
    link, code = await a_link(page)
    _, entered = await confirm(page.client, link)
    assert entered.status_code == 303
    page.client.cookies.clear()

    again, reused = await confirm(page.client, link)
    assert again.status_code == 410 and "sudah dipakai atau tidak berlaku" in again.text
    assert reused.status_code == 410 and "gotong_m=" not in reused.headers.get("set-cookie", "")
    form = {"csrf": csrf_of((await page.client.get("/m/sign-in")).text), "phone": SARI, "code": code}
    assert (await page.client.post("/m/sign-in/code", data=form)).status_code == 422


async def test_a_link_lives_ten_minutes_and_gives_way_to_a_newer_code(page: PhonePage) -> None:
    late, _ = await a_link(page)
    page.clock.advance(timedelta(minutes=10, seconds=1))
    shown, entered = await confirm(page.client, late)
    assert shown.status_code == 410 and entered.status_code == 410

    older, _ = await a_link(page)
    newer, _ = await a_link(page)
    assert (await page.client.get(older)).status_code == 410
    assert (await confirm(page.client, newer))[1].status_code == 303


async def test_the_button_needs_the_forms_csrf_token(page: PhonePage) -> None:
    link, _ = await a_link(page)
    await page.client.get(link)
    for form in ({}, {"csrf": "forged-token-that-is-long-enough-to-look-real"}):
        refused = await page.client.post(link, data=form)
        assert refused.status_code == 403 and "gotong_m=" not in refused.headers.get("set-cookie", "")
    assert (await confirm(page.client, link))[1].status_code == 303  # the refusals used nothing up


@pytest.mark.parametrize(
    "token", ["x", "not-a-token-but-long-enough-to-look-like-one-!!", "A" * 43, "🙂" * 40, "a" * 65]
)
async def test_a_link_that_was_never_sent_is_no_longer_valid(page: PhonePage, token: str) -> None:
    shown = await page.client.get(f"/m/sign-in/link/{token}")
    assert shown.status_code in (404, 410) and shown.headers["content-type"].startswith("text/html")


async def test_the_link_page_speaks_the_contacts_language_until_the_browser_chooses(page: PhonePage) -> None:
    link, _ = await a_link(page, language="en")
    shown = await page.client.get(link)
    assert '<html lang="en">' in shown.text and "Sign in to Gotong as +62••••7001?" in shown.text
    switched = await page.client.post("/m/language", data={"csrf": csrf_of(shown.text), "lang": "id", "next": link})
    assert switched.headers["location"] == link
    assert "Masuk ke Gotong sebagai" in (await page.client.get(link)).text
