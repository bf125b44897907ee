"""Signing in to the phone page by a one-time code: cookies, CSRF, limits, expiry, single use, no enumeration."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from tests.integration.phone.conftest import PhonePage
from tests.support.phone import add_contact, ask_code, csrf_of, latest_code, sign_in

pytestmark = pytest.mark.integration
SARI = "+6281234567001"


async def test_a_contact_signs_in_by_code_into_a_session_cookie_that_scripts_and_other_sites_cannot_use(
    page: PhonePage,
) -> None:
    msme = await page.msme("rotan-cirebon")
    await add_contact(page.client, page.pool, msme, "rotan-cirebon", SARI)
    await page.request(msme)

    entered = await sign_in(page.client, page.pool, SARI)

    assert entered.status_code == 303 and entered.headers["location"] == "/m/"
    session = next(c for c in entered.headers.get_list("set-cookie") if c.startswith("gotong_m="))
    flags = {part.strip().split("=")[0].lower(): part.strip() for part in session.split(";")[1:]}
    assert "httponly" in flags and flags["samesite"].lower() == "samesite=lax" and flags["path"] == "Path=/m"
    assert flags["max-age"] == "Max-Age=43200" and "secure" not in flags  # plain HTTP: a Secure cookie would be lost
    inbox = await page.client.get("/m/")
    assert inbox.status_code == 200 and "Keranjang rotan" in inbox.text and "Permintaan alokasi" in inbox.text
    stored = await page.pool.fetchval("SELECT token_hash FROM notifications.sessions")
    assert session.split(";")[0].split("=", 1)[1].encode() not in stored  # only the token's hash is kept


async def test_over_tls_the_session_cookie_is_secure(page: PhonePage) -> None:
    msme = await page.msme("rotan-cirebon")
    await add_contact(page.client, page.pool, msme, "rotan-cirebon", SARI)
    page.client.base_url = httpx.URL("https://phone.example")  # as if the request came over TLS
    entered = await sign_in(page.client, page.pool, SARI)
    assert entered.status_code == 303
    session = next(c for c in entered.headers.get_list("set-cookie") if c.startswith("gotong_m="))
    assert "Secure" in session


async def test_a_number_that_is_not_a_contact_gets_the_same_answer_and_no_code(page: PhonePage) -> None:
    msme = await page.msme("rotan-cirebon")
    await add_contact(page.client, page.pool, msme, "rotan-cirebon", SARI)
    await add_contact(page.client, page.pool, msme, "rotan-cirebon", "+6281234567002", opted_in=False)
    known = await ask_code(page.client, SARI)
    answers = [await ask_code(page.client, phone) for phone in ("+6281234567002", "+6281299999999")]

    def shown(html: str, phone: str) -> str:
        return html.replace(phone, "PHONE").replace(csrf_of(html), "CSRF")

    assert known.status_code == 200 and "Jika nomor" in known.text
    for answer, phone in zip(answers, ("+6281234567002", "+6281299999999"), strict=True):
        assert answer.status_code == 200 and shown(answer.text, phone) == shown(known.text, SARI)
    queued = await page.pool.fetch("SELECT phone FROM notifications.deliveries WHERE kind = 'sign_in_code'")
    assert [row["phone"] for row in queued] == [SARI]  # neither the opted-out contact nor a stranger got one


async def test_a_phone_gets_three_codes_per_quarter_hour_known_or_not(page: PhonePage) -> None:
    msme = await page.msme("rotan-cirebon")
    await add_contact(page.client, page.pool, msme, "rotan-cirebon", SARI)
    for phone in (SARI, "+6281299999999"):
        for _ in range(3):
            assert (await ask_code(page.client, phone)).status_code == 200
        refused = await ask_code(page.client, phone)
        assert refused.status_code == 429 and "Coba lagi dalam 15 menit" in refused.text
        assert refused.headers["retry-after"] == "900"
    assert await page.pool.fetchval("SELECT count(*) FROM notifications.deliveries") == 3

    page.clock.advance(timedelta(minutes=15, seconds=1))
    assert (await ask_code(page.client, SARI)).status_code == 200


async def test_a_client_address_gets_ten_codes_per_quarter_hour(page: PhonePage) -> None:
    for n in range(10):
        assert (await ask_code(page.client, f"+62812000000{n:02d}")).status_code == 200
    refused = await ask_code(page.client, "+6281200000099")
    assert refused.status_code == 429
    other_address = await ask_code(page.client, "+6281200000099", **{"X-Forwarded-For": "198.51.100.7"})
    assert other_address.status_code == 429  # X-Forwarded-For counts only from a trusted proxy (uvicorn), not here


async def test_a_code_is_single_use_and_expires_after_ten_minutes(page: PhonePage) -> None:
    msme = await page.msme("rotan-cirebon")
    await add_contact(page.client, page.pool, msme, "rotan-cirebon", SARI)
    asked = await ask_code(page.client, SARI)
    code, form = await latest_code(page.pool, SARI), {"csrf": csrf_of(asked.text), "phone": SARI}

    page.clock.advance(timedelta(minutes=10, seconds=1))
    late = await page.client.post("/m/sign-in/code", data=form | {"code": code})
    assert late.status_code == 422 and "Kode salah atau sudah tidak berlaku" in late.text

    asked = await ask_code(page.client, SARI)
    code = await latest_code(page.pool, SARI)
    first = await page.client.post("/m/sign-in/code", data=form | {"code": code, "csrf": csrf_of(asked.text)})
    assert first.status_code == 303
    page.client.cookies.clear()
    fresh = await page.client.get("/m/sign-in")
    again = await page.client.post("/m/sign-in/code", data=form | {"code": code, "csrf": csrf_of(fresh.text)})
    assert again.status_code == 422 and "gotong_m=" not in again.headers.get("set-cookie", "")


async def test_a_code_survives_five_wrong_tries_and_no_more(page: PhonePage) -> None:
    msme = await page.msme("rotan-cirebon")
    await add_contact(page.client, page.pool, msme, "rotan-cirebon", SARI)
    asked = await ask_code(page.client, SARI)
    code, form = await latest_code(page.pool, SARI), {"csrf": csrf_of(asked.text), "phone": SARI}
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        assert (await page.client.post("/m/sign-in/code", data=form | {"code": wrong})).status_code == 422
    right_too_late = await page.client.post("/m/sign-in/code", data=form | {"code": code})
    assert right_too_late.status_code == 422


@pytest.mark.parametrize("csrf", [None, "", "forged-token-that-is-long-enough-to-look-real"])
async def test_a_form_without_its_csrf_token_is_refused(page: PhonePage, csrf: str | None) -> None:
    await page.client.get("/m/sign-in")
    form = {"phone": SARI} | ({"csrf": csrf} if csrf is not None else {})
    refused = await page.client.post("/m/sign-in", data=form)
    assert refused.status_code == 403 and refused.headers["content-type"].startswith("text/html")
    assert "Formulir ini sudah tidak berlaku" in refused.text
    assert await page.pool.fetchval("SELECT count(*) FROM notifications.sign_in_codes") == 0


async def test_bad_phone_numbers_and_codes_show_the_form_again(page: PhonePage) -> None:
    for raw in ("12", "not a number", "+62 812 🙂 567", "+" + "9" * 30):
        answer = await ask_code(page.client, raw)
        assert answer.status_code == 422 and "Tulis nomor HP lengkap" in answer.text, raw
    asked = await ask_code(page.client, "0812-3456-7001")  # written the Indonesian way
    assert asked.status_code == 200 and SARI in asked.text
    for code in ("12345", "abcdef", "١٢٣٤٥٦", "123456\n"):
        answer = await page.client.post(
            "/m/sign-in/code", data={"csrf": csrf_of(asked.text), "phone": SARI, "code": code}
        )
        assert answer.status_code == 422, code


async def test_signing_out_ends_the_session(page: PhonePage) -> None:
    msme = await page.msme("rotan-cirebon")
    await add_contact(page.client, page.pool, msme, "rotan-cirebon", SARI)
    await sign_in(page.client, page.pool, SARI)
    cookie = page.client.cookies.get("gotong_m")
    inbox = await page.client.get("/m/")
    out = await page.client.post("/m/sign-out", data={"csrf": csrf_of(inbox.text)})
    assert out.status_code == 303 and out.headers["location"] == "/m/sign-in"
    assert await page.pool.fetchval("SELECT count(*) FROM notifications.sessions") == 0
    page.client.cookies.set("gotong_m", cookie or "", path="/m")  # the old cookie, kept by someone
    replayed = await page.client.get("/m/")
    assert replayed.status_code == 303 and replayed.headers["location"].startswith("/m/sign-in")
