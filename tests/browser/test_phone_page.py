"""The MSMEs' phone page in a real browser at phone size: sign in by the code WhatsApp brought, find the request
in the inbox, accept part of it, and see pooling take it; the page in Bahasa Indonesia and in English."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.integration.flow.marketplace import Marketplace, Producer, eventually
from tests.integration.notifications.whatsapp_flow import add_contact
from tests.support.phone import csrf_of, latest_code
from tests.support.phone_browser import PHONE
from tests.support.whatsapp import FakeWhatsApp

pytestmark = pytest.mark.browser
SARI = "+6281234567001"
PAGE_LIMIT = 50_000


async def _request_of_500(market: Marketplace) -> tuple[Producer, str, str]:
    """A Cirebon workshop that can make 800 chairs over two months is asked for 500 of a 500-chair order."""
    standard = await market.publish_standard()
    producer = await market.producer(
        "jepara-teak", standard, name="Mebel Jati Jepara", capacity={"2027-02": 400, "2027-03": 400}
    )
    await market.qualify(producer, standard)
    await market.register_buyer()
    pool_id = await market.open_pool(standard)
    await market.confirmed_order(standard, [500])
    await market.pool_where(pool_id, lambda p: p["demand"] == 500, "the order joins the pool")
    await add_contact(market, producer, SARI)
    await market.allocate(pool_id, msmes=1)
    request = await market.request_for(producer)
    assert request["quantity"] == 500, request
    return producer, pool_id, str(request["id"])


async def _fits_a_phone(phone: Any, what: str) -> None:
    """The page has no horizontal scroll at 360 px and weighs less than 50 kB of HTML."""
    width = await phone.evaluate("document.documentElement.scrollWidth")
    size = len((await phone.content()).encode())
    assert width <= PHONE["width"], f"{what}: {width} px wide"
    assert size < PAGE_LIMIT, f"{what}: {size} bytes"


async def _sign_in(phone: Any, whatsapp: FakeWhatsApp) -> None:
    """On the sign-in page: the number, then the code that arrived on WhatsApp."""
    await phone.fill("#phone", "0812 3456 7001")
    await phone.click("button[type=submit] >> text=Kirim kode")

    async def code() -> str | None:
        for sent in whatsapp.messages_to(SARI):
            found = re.search(r"Kode masuk Gotong Anda: ([0-9]{6})", sent.text)
            if found:
                return found.group(1)
        return None

    await phone.fill("#code", await eventually(code, what="the sign-in code on WhatsApp"))
    await phone.click("button[type=submit] >> text=Masuk")


async def test_an_msme_signs_in_by_code_and_accepts_part_of_a_request(
    market: tuple[Marketplace, str], whatsapp: FakeWhatsApp, phone: Any, tmp_path: Path
) -> None:
    marketplace, url = market
    producer, _, request_id = await _request_of_500(marketplace)

    await phone.goto(f"{url}/m/")
    assert phone.url.startswith(f"{url}/m/sign-in")
    await _fits_a_phone(phone, "sign-in")
    await _sign_in(phone, whatsapp)
    await phone.wait_for_url(f"{url}/m/")

    async def listed() -> bool:
        await phone.reload()
        return "teak garden chair" in (await phone.content()).lower() or request_id in await phone.content()

    await eventually(listed, what="the inbox lists the request")
    assert "Permintaan alokasi" in await phone.inner_text("h1")
    inbox = await phone.inner_text("main")
    assert "500 PCE" in inbox and "Semarang" in inbox and "USD" in inbox
    await _fits_a_phone(phone, "inbox")
    await phone.screenshot(path=str(tmp_path / "inbox-360x740.png"))

    await phone.click(f"a[href='/m/requests/{request_id}'] >> nth=0")
    await phone.wait_for_url(f"{url}/m/requests/{request_id}")
    assert "Jumlah antara 1 dan 500" in await phone.inner_text("main")
    await phone.fill("#quantity", "300")
    await phone.click("button >> text=Terima sebagian")
    await phone.wait_for_url(f"{url}/m/requests/{request_id}")

    assert "Diterima 300 dari 500." in await phone.inner_text("main")
    await _fits_a_phone(phone, "request")
    shot = tmp_path / "request-360x740.png"
    await phone.screenshot(path=str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 5_000
    accepted = await marketplace.get(f"/v1/allocation-requests/{request_id}", producer.headers)
    assert (accepted["status"], accepted["accepted"]) == ("accepted", 300), accepted


async def test_the_page_speaks_indonesian_first_and_english_on_request(
    market: tuple[Marketplace, str], whatsapp: FakeWhatsApp, phone: Any, tmp_path: Path
) -> None:
    marketplace, url = market
    producer, _, request_id = await _request_of_500(marketplace)
    await phone.goto(f"{url}/m/requests/{request_id}")
    await _sign_in(phone, whatsapp)
    await phone.wait_for_url(f"{url}/m/requests/{request_id}")
    assert await phone.get_attribute("html", "lang") == "id"
    assert "Terima semua (500)" in await phone.inner_text("main")

    await phone.click("footer button >> text=English")
    await phone.wait_for_url(f"{url}/m/requests/{request_id}")
    assert await phone.get_attribute("html", "lang") == "en"
    page = await phone.inner_text("body")
    assert "Accept all (500)" in page and "Answer by" in page and "Decline" in page and "Tolak" not in page

    await phone.fill("#quantity", "five hundred")
    await phone.click("button >> text=Accept part")
    assert "Write the quantity in digits only." in await phone.inner_text("main")
    await phone.fill("#reason", "Kayu jati kering habis bulan ini 🙏")
    await phone.click("button >> text=Decline")
    await phone.wait_for_url(f"{url}/m/requests/{request_id}")
    assert "You declined this request." in await phone.inner_text("main")

    await phone.goto(f"{url}/m/capacity")
    assert "Capacity per month" in await phone.inner_text("h1")
    capacity = await phone.inner_text("main")
    assert "Feb 2027" in capacity and "Mar 2027" in capacity and "400 PCE" in capacity
    await _fits_a_phone(phone, "capacity")
    await phone.goto(f"{url}/m/lots")
    assert "Lots and their verdicts" in await phone.inner_text("h1")
    await _fits_a_phone(phone, "lots")
    await phone.screenshot(path=str(tmp_path / "lots-en-360x740.png"))
    declined = await marketplace.get(f"/v1/allocation-requests/{request_id}", producer.headers)
    assert declined["status"] == "declined", declined


async def test_behind_a_trusted_tls_proxy_the_session_cookie_is_secure(
    market: tuple[Marketplace, str], pool: asyncpg.Pool
) -> None:
    """uvicorn believes X-Forwarded-Proto from a trusted proxy (here 127.0.0.1), and the page marks the cookie."""
    marketplace, url = market
    standard = await marketplace.publish_standard()
    producer = await marketplace.producer("jepara-teak", standard, name="Mebel Jati Jepara")
    await add_contact(marketplace, producer, SARI)
    proxied = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    async with httpx.AsyncClient(base_url=url, headers=proxied) as through_proxy:
        shown = await through_proxy.get("/m/sign-in")
        form_cookie = shown.headers["set-cookie"]
        assert form_cookie.startswith("gotong_m_form=") and "Secure" in form_cookie
        # the proxy speaks plain HTTP to Gotong, so the client's jar would keep a Secure cookie to itself
        sent_back = {"Cookie": form_cookie.split(";")[0]}
        form = {"csrf": csrf_of(shown.text), "phone": SARI}
        asked = await through_proxy.post("/m/sign-in", data=form, headers=sent_back)
        assert asked.status_code == 200, asked.text
        code = await latest_code(pool, SARI)
        entered = await through_proxy.post("/m/sign-in/code", data=form | {"code": code}, headers=sent_back)
    assert entered.status_code == 303
    session = next(c for c in entered.headers.get_list("set-cookie") if c.startswith("gotong_m="))
    assert "Secure" in session and "HttpOnly" in session
    address = await pool.fetchval("SELECT address FROM notifications.sign_in_codes")
    assert address == "203.0.113.9"  # the limits count the client behind the proxy
