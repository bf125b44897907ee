"""Messages to MSMEs: the request with its three buttons, in each language, as WhatsApp receives it inside and
outside the 24-hour window; the answer's outcome; signatures of Meta's webhooks."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import pytest

from services.notifications.channels import Outgoing
from services.notifications.channels.whatsapp import message_payload, sign, signature_valid
from services.notifications.domain import messages
from services.notifications.domain.outbound import OutboundMessage, ReplyButton
from services.notifications.settings import NotificationSettings
from shared.config import SettingsError

pytestmark = pytest.mark.unit
RID = UUID("01900000-0000-7000-8000-00000000abcd")
FACTS = messages.RequestFacts(
    request_id=RID, msme_name="Mebel Jati Jepara", product="Teak garden chair", quantity=1500, unit="PCE",
    plan=[("2027-02", 1000), ("2027-03", 500)], price="38.00", currency="USD",
    expires_at=datetime(2027, 1, 6, 2, 0, tzinfo=UTC), destination="Semarang", pool="Teak chairs for Rotterdam",
)  # fmt: skip
LINK = f"https://gotong.example.id/m/requests/{RID}"


def test_a_request_in_bahasa_indonesia_has_three_buttons_naming_the_request() -> None:
    message = messages.request_message(FACTS, "id", link=LINK, template="gotong_allocation_request")
    assert message.text.startswith("Permintaan alokasi baru untuk Mebel Jati Jepara: 1.500 PCE Teak garden chair")
    assert "2027-02: 1.000" in message.text and "2027-01-06 09:00 WIB" in message.text
    assert [(b.id, b.title) for b in message.buttons] == [
        (f"accept:{RID}", "Terima semua"), (f"part:{RID}", "Terima sebagian"), (f"decline:{RID}", "Tolak"),
    ]  # fmt: skip
    assert all(len(b.title) <= 20 for b in message.buttons)
    assert message.template is not None and message.template.button_payloads == [b.id for b in message.buttons]


def test_a_re_sent_request_says_so() -> None:
    message = messages.request_message(FACTS, "en", link=LINK, resent=True)
    assert message.text.startswith("Request re-sent after a re-allocation for Mebel Jati Jepara: 1,500 PCE")
    assert [b.title for b in message.buttons] == ["Accept all", "Accept part", "Decline"]


def test_inside_the_window_an_interactive_message_outside_it_the_template() -> None:
    message = messages.request_message(FACTS, "id", link=LINK, template="gotong_allocation_request")
    inside = message_payload(Outgoing(RID, "+6281234567890", "id", message, in_window=True), {"id": "id"})
    assert inside["to"] == "6281234567890" and inside["type"] == "interactive"
    assert inside["biz_opaque_callback_data"] == str(RID)
    assert [b["reply"]["id"] for b in inside["interactive"]["action"]["buttons"]] == [
        f"accept:{RID}",
        f"part:{RID}",
        f"decline:{RID}",
    ]
    assert inside["interactive"]["body"]["text"].endswith(LINK)
    outside = message_payload(Outgoing(RID, "+6281234567890", "id", message, in_window=False), {"id": "id_ID"})
    template = outside["template"]
    assert outside["type"] == "template" and template["language"] == {"code": "id_ID"}
    payloads = [c["parameters"][0]["payload"] for c in template["components"] if c["type"] == "button"]
    assert payloads == [f"accept:{RID}", f"part:{RID}", f"decline:{RID}"]
    body = next(c for c in template["components"] if c["type"] == "body")
    assert all("\n" not in p["text"] for p in body["parameters"])


def test_a_message_without_buttons_goes_as_text_and_no_message_has_more_than_three() -> None:
    plain = messages.update_message("Diterima 300 dari 500.", "id", link=LINK)
    payload = message_payload(Outgoing(RID, "+62812", "id", plain, in_window=True), {})
    assert payload["type"] == "text" and payload["text"]["body"] == f"Diterima 300 dari 500.\n\n{LINK}"
    with pytest.raises(ValueError, match="three"):
        OutboundMessage(text="x", buttons=[ReplyButton(id=str(n), title="t") for n in range(4)])


@pytest.mark.parametrize(
    ("language", "outcome", "problem", "start"),
    [
        ("id", "accepted", None, "Diterima 300 dari 500"),
        ("en", "accepted", None, "Accepted 300 of 500"),
        ("id", "declined", None, "Permintaan ditolak"),
        ("en", "refused", "over-allocation", "Your answer could not be taken: that is more than the pool still needs"),
        ("id", "refused", "not-answerable", "Jawaban tidak bisa diproses: permintaan ini sudah tidak bisa dijawab"),
    ],
)
def test_the_outcome_of_an_answer(language: str, outcome: str, problem: str | None, start: str) -> None:
    quantity = 300 if outcome == "accepted" else 0
    assert messages.outcome_text(language, outcome, quantity, 500, problem).startswith(start)


def test_only_the_app_secret_signs_a_webhook() -> None:
    body = b'{"object":"whatsapp_business_account"}'
    assert signature_valid("secret", body, sign("secret", body))
    assert not signature_valid("secret", body, sign("other", body))
    assert not signature_valid("secret", body + b" ", sign("secret", body))
    assert not signature_valid("secret", body, None)
    assert not signature_valid("secret", body, "sha1=abc")


def test_settings_are_checked_with_clear_messages() -> None:
    assert NotificationSettings.from_env({}, port=8000).whatsapp is None
    assert NotificationSettings.from_env({}, port=8123).public_url == "http://127.0.0.1:8123"
    full = {"GOTONG_WHATSAPP_PHONE_NUMBER_ID": "1098", "GOTONG_WHATSAPP_TOKEN": "t",
            "GOTONG_WHATSAPP_APP_SECRET": "s", "GOTONG_WHATSAPP_VERIFY_TOKEN": "v"}  # fmt: skip
    configured = NotificationSettings.from_env(full | {"GOTONG_REMINDER_BEFORE": "90min"})
    assert configured.whatsapp is not None and configured.whatsapp.api_url == "https://graph.facebook.com/v21.0"
    assert configured.reminder_before.total_seconds() == 5400
    with pytest.raises(SettingsError, match="GOTONG_WHATSAPP_APP_SECRET"):
        NotificationSettings.from_env({k: v for k, v in full.items() if "SECRET" not in k})
    with pytest.raises(SettingsError, match="PHONE_NUMBER_ID must be the number's id"):
        NotificationSettings.from_env(full | {"GOTONG_WHATSAPP_PHONE_NUMBER_ID": "+62 812"})
    with pytest.raises(SettingsError, match="GOTONG_REMINDER_BEFORE"):
        NotificationSettings.from_env({"GOTONG_REMINDER_BEFORE": "soon"})
    with pytest.raises(SettingsError, match="GOTONG_PUBLIC_URL"):
        NotificationSettings.from_env({"GOTONG_PUBLIC_URL": "gotong.example.id"})


def test_a_certificate_about_to_expire_is_told_in_the_contacts_language() -> None:
    said = messages.certificate_expiring_text("id", "Halal", "ID00410000123450423", "Kerupuk Garut", "2027-03-31", 7)
    assert said == (
        "Sertifikat Halal ID00410000123450423 milik Kerupuk Garut berlaku sampai 2027-03-31 (7 hari lagi). "
        "Perpanjang sebelum habis agar tetap bisa menerima alokasi yang memerlukannya."
    )
    english = messages.certificate_expiring_text("en", "Halal", "ID0041", "Kerupuk Garut", "2027-03-31", 30)
    assert english.startswith("The Halal certificate ID0041 of Kerupuk Garut is valid until 2027-03-31 (30 days left).")
