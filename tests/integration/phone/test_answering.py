"""Answering on the phone page without pooling running: who may see what, bad input, CSRF, the recorded answer."""

from __future__ import annotations

import pytest

from services.notifications.phone import inbox
from shared.auth import Role
from tests.integration.phone.conftest import PhonePage
from tests.support.app import token
from tests.support.phone import add_contact, csrf_of, sign_in
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration
SARI = "+6281234567001"


async def _signed_in(page: PhonePage) -> tuple[str, str]:
    """Sari, a contact of a Cirebon rattan workshop with a pending request of 500 baskets, signed in."""
    msme = await page.msme("rotan-cirebon")
    contact_id = await add_contact(page.client, page.pool, msme, "rotan-cirebon", SARI)
    request_id = await page.request(msme)
    assert (await sign_in(page.client, page.pool, SARI)).status_code == 303
    return str(request_id), contact_id


async def test_another_msmes_request_is_not_found(page: PhonePage) -> None:
    await _signed_in(page)
    other = await page.request(await page.msme("bambu-bali", name="Bambu Bali"))

    shown = await page.client.get(f"/m/requests/{other}")
    inbox_page = await page.client.get("/m/")
    answered = await page.client.post(
        f"/m/requests/{other}/answer", data={"csrf": csrf_of(inbox_page.text), "decision": "accept_all"}
    )

    assert shown.status_code == 404 and "Halaman tidak ditemukan" in shown.text
    assert answered.status_code == 404
    assert "Bambu" not in inbox_page.text
    assert (await page.client.get("/m/no-such-page")).status_code == 404
    assert await page.pool.fetchval("SELECT count(*) FROM notifications.answers") == 0


async def test_a_removed_contact_sees_nothing_at_once(page: PhonePage) -> None:
    request_id, contact_id = await _signed_in(page)
    assert (await page.client.get(f"/m/requests/{request_id}")).status_code == 200
    removed = await page.client.delete(f"/v1/contacts/{contact_id}", headers=token(Role.MSME, org="rotan-cirebon"))
    assert removed.status_code == 200, removed.text

    async def gone() -> bool:
        return (await page.client.get(f"/m/requests/{request_id}")).status_code == 404

    await eventually(gone)
    assert "Nomor ini belum terhubung" in (await page.client.get("/m/")).text


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"decision": "accept_part", "quantity": "tiga ratus"}, "Tulis jumlah dengan angka saja."),
        ({"decision": "accept_part", "quantity": "🙂"}, "Tulis jumlah dengan angka saja."),
        ({"decision": "accept_part", "quantity": "-5"}, "Tulis jumlah dengan angka saja."),
        ({"decision": "accept_part", "quantity": "99999999999999999999"}, "Tulis jumlah dengan angka saja."),
        ({"decision": "accept_part", "quantity": "0"}, "Jumlah paling sedikit 1."),
        ({"decision": "accept_part", "quantity": "501"}, "Jumlah paling banyak 500"),
        ({"decision": "decline", "reason": "   "}, "Tulis alasan penolakan."),
        ({"decision": "decline", "reason": "x" * 501}, "Alasan terlalu panjang: paling banyak 500 karakter."),
        ({"decision": "decline", "reason": "nul \x00 byte"}, "Alasan berisi karakter yang tidak dapat disimpan."),
        ({"decision": "maybe"}, "Pilih salah satu jawaban."),
    ],
)
async def test_bad_input_shows_the_form_again_with_what_to_fix(
    page: PhonePage, form: dict[str, str], message: str
) -> None:
    request_id, _ = await _signed_in(page)
    shown = await page.client.get(f"/m/requests/{request_id}")

    again = await page.client.post(f"/m/requests/{request_id}/answer", data={"csrf": csrf_of(shown.text), **form})

    assert again.status_code == 422 and message in again.text
    assert 'name="quantity"' in again.text  # the forms are there to try again
    assert await page.pool.fetchval("SELECT count(*) FROM notifications.answers") == 0


async def test_an_answer_without_the_sessions_csrf_token_is_refused(page: PhonePage) -> None:
    before_sign_in = csrf_of((await page.client.get("/m/sign-in")).text)
    request_id, _ = await _signed_in(page)
    session_token = csrf_of((await page.client.get(f"/m/requests/{request_id}")).text)

    for token_sent in (before_sign_in, session_token[::-1], ""):
        refused = await page.client.post(
            f"/m/requests/{request_id}/answer", data={"csrf": token_sent, "decision": "accept_all"}
        )
        assert refused.status_code == 403 and refused.headers["content-type"].startswith("text/html")
    assert before_sign_in != session_token
    assert await page.pool.fetchval("SELECT count(*) FROM notifications.answers") == 0


async def test_an_answer_is_recorded_and_shown_as_processing_until_pooling_settles_it(
    page: PhonePage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inbox, "SETTLE_WAIT", 0.3)  # pooling is not running here: nothing will settle it
    request_id, contact_id = await _signed_in(page)
    shown = await page.client.get(f"/m/requests/{request_id}")

    answered = await page.client.post(
        f"/m/requests/{request_id}/answer",
        data={"csrf": csrf_of(shown.text), "decision": "decline", "reason": "Bahan rotan habis 🙏 — 原料不足"},
    )

    assert answered.status_code == 303 and answered.headers["location"] == f"/m/requests/{request_id}"
    row = await page.pool.fetchrow("SELECT * FROM notifications.answers")
    assert row is not None and str(row["contact_id"]) == contact_id
    assert (row["channel"], row["decision"], row["status"]) == ("web", "decline", "given")
    reason = await page.pool.fetchval(
        "SELECT data->>'reason' FROM notifications.events WHERE stream_id LIKE 'answer-%'"
    )
    assert reason == "Bahan rotan habis 🙏 — 原料不足"  # AnswerGiven, for pooling to settle
    after = await page.client.get(f"/m/requests/{request_id}")
    assert "Jawaban Anda masih diproses." in after.text
