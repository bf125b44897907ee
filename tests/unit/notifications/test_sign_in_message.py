"""The sign-in message: the code with its link as text inside the 24-hour window, the authentication template
with its copy-code button outside it, and nothing of either left readable once it has gone."""

from __future__ import annotations

import json
from uuid import UUID

import msgspec
import pytest

from services.notifications.channels import Outgoing
from services.notifications.channels.whatsapp import message_payload
from services.notifications.domain import messages
from services.notifications.domain.outbound import MASK, MESSAGE
from services.notifications.settings import TEMPLATES, NotificationSettings

pytestmark = pytest.mark.unit
DELIVERY = UUID("01900000-0000-7000-8000-00000000beef")
TOKEN = "q3Zt0x4hY_Kc-0142857Lm9Pa2sWvE1rNnD7uJbXoGfA"  # holds the code's digits, as a token may
LINK = f"https://gotong.example.id/m/sign-in/link/{TOKEN}"


def _message(language: str = "id", template: str | None = TEMPLATES["sign_in"]) -> messages.OutboundMessage:
    return messages.sign_in_message(language, code="142857", link=LINK, token=TOKEN, template=template)


def test_inside_the_window_the_code_and_the_link_go_as_text_without_a_preview() -> None:
    payload = message_payload(Outgoing(DELIVERY, "+6281234567001", "id", _message(), in_window=True), {})
    assert payload["type"] == "text"
    assert payload["text"]["body"].startswith("Kode masuk Gotong Anda: 142857. Berlaku 10 menit.")
    assert payload["text"]["body"].endswith(f"\n\n{LINK}")
    assert payload["text"]["preview_url"] is False  # WhatsApp's servers need not fetch a credential


def test_outside_the_window_the_authentication_template_carries_the_code_twice_and_no_link() -> None:
    message = _message("en")
    payload = message_payload(Outgoing(DELIVERY, "+6281234567001", "en", message, in_window=False), {"en": "en_US"})
    assert payload["type"] == "template"
    assert payload["template"] == {
        "name": "gotong_sign_in_code",
        "language": {"code": "en_US"},
        "components": [
            {"type": "body", "parameters": [{"type": "text", "text": "142857"}]},
            {"type": "button", "sub_type": "url", "index": "0", "parameters": [{"type": "text", "text": "142857"}]},
        ],
    }
    assert TOKEN not in json.dumps(payload)


def test_once_gone_the_code_and_the_token_are_masked_everywhere_in_the_message() -> None:
    kept = _message().redacted()
    stored = msgspec.json.encode(kept).decode()
    assert "142857" not in stored and TOKEN not in stored and MASK in kept.text
    assert kept.link == f"https://gotong.example.id/m/sign-in/link/{MASK}"
    assert kept.template is not None and kept.template.copy_code == MASK and kept.secrets == []
    plain = messages.update_message("Lot JPR-0315 (142857) DITERIMA.", "id")
    assert plain.redacted() is plain  # a message without secrets keeps its numbers


def test_a_message_queued_before_secrets_were_kept_still_loads() -> None:
    old = MESSAGE.decode(b'{"text":"Kode masuk Gotong Anda: 123456.","template":{"name":"x","language":"id"}}')
    assert old.secrets == [] and old.template is not None and old.template.copy_code is None


def test_the_sign_in_template_is_named_like_the_others() -> None:
    full = {"GOTONG_WHATSAPP_PHONE_NUMBER_ID": "1098", "GOTONG_WHATSAPP_TOKEN": "t",
            "GOTONG_WHATSAPP_APP_SECRET": "s", "GOTONG_WHATSAPP_VERIFY_TOKEN": "v"}  # fmt: skip
    default = NotificationSettings.from_env(full).whatsapp
    renamed = NotificationSettings.from_env(full | {"GOTONG_WHATSAPP_TEMPLATE_SIGN_IN": "kode_masuk"}).whatsapp
    assert default is not None and default.templates["sign_in"] == "gotong_sign_in_code"
    assert renamed is not None and renamed.templates["sign_in"] == "kode_masuk"
    assert NotificationSettings.from_env(full).sign_in_link(TOKEN) == f"http://127.0.0.1:8000/m/sign-in/link/{TOKEN}"
