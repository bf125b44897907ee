"""Meta's WhatsApp Cloud API for tests: the fake Graph API server (``demo.whatsapp``, a real HTTP server in the
test process, which records what Gotong sends and can be told to be down) set up with a test number, and the
signed webhook notifications Meta sends to Gotong (messages, button replies, statuses)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from demo.whatsapp import FakeGraphApi, Sent

PHONE_NUMBER_ID = "109876543210"
TOKEN = "test-graph-token"
APP_SECRET = "test-app-secret"
VERIFY_TOKEN = "test-verify-token"
BUSINESS_PHONE = "15550001111"
__all__ = ["FakeWhatsApp", "Sent"]


@dataclass
class FakeWhatsApp(FakeGraphApi):
    """The fake, for Gotong configured with the test number's settings (``env``)."""

    token: str | None = TOKEN
    phone_number_id: str | None = PHONE_NUMBER_ID

    def env(self) -> dict[str, str]:
        return {
            "GOTONG_WHATSAPP_API_URL": self.api_url,
            "GOTONG_WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
            "GOTONG_WHATSAPP_TOKEN": TOKEN,
            "GOTONG_WHATSAPP_APP_SECRET": APP_SECRET,
            "GOTONG_WHATSAPP_VERIFY_TOKEN": VERIFY_TOKEN,
        }


@contextmanager
def fake_whatsapp() -> Iterator[FakeWhatsApp]:
    fake = FakeWhatsApp()
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


# --- webhooks, as Meta sends them ---------------------------------------------------------------------------

_sequence = 0


def _next_id() -> str:
    global _sequence
    _sequence += 1
    return f"wamid.IN{int(time.time() * 1000)}{_sequence:06d}"


def notification(value: dict[str, Any]) -> dict[str, Any]:
    """A WhatsApp Business Account notification carrying one change's ``value``."""
    metadata = {"display_phone_number": BUSINESS_PHONE, "phone_number_id": PHONE_NUMBER_ID}
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA-1", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp", "metadata": metadata, **value}}]}],
    }  # fmt: skip


def inbound(
    phone: str, message: dict[str, Any], name: str = "Pak Slamet", message_id: str | None = None
) -> dict[str, Any]:
    wa_id = phone.removeprefix("+")
    body = {"from": wa_id, "id": message_id or _next_id(), "timestamp": str(int(time.time())), **message}
    return notification({"contacts": [{"profile": {"name": name}, "wa_id": wa_id}], "messages": [body]})


def button_reply(phone: str, button_id: str, title: str = "") -> dict[str, Any]:
    """A tap on an interactive message's reply button."""
    reply = {
        "type": "interactive",
        "interactive": {"type": "button_reply", "button_reply": {"id": button_id, "title": title}},
    }
    return inbound(phone, reply)


def template_button(phone: str, payload: str, text: str = "") -> dict[str, Any]:
    """A tap on a template's quick-reply button."""
    return inbound(phone, {"type": "button", "button": {"payload": payload, "text": text}})


def text_message(phone: str, text: str) -> dict[str, Any]:
    return inbound(phone, {"type": "text", "text": {"body": text}})


def status(
    message_id: str, state: str, phone: str, delivery_id: str | None = None, error: dict[str, Any] | None = None
) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": message_id, "status": state, "timestamp": str(int(time.time())),
                             "recipient_id": phone.removeprefix("+")}  # fmt: skip
    if delivery_id:
        entry["biz_opaque_callback_data"] = delivery_id
    if error:
        entry["errors"] = [error]
    return notification({"statuses": [entry]})


def signed_bytes(body: bytes, secret: str = APP_SECRET) -> dict[str, str]:
    """The headers Meta sends with ``body``: its HMAC-SHA256 with the app secret in ``X-Hub-Signature-256``."""
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Hub-Signature-256": signature}


def signed(payload: dict[str, Any], secret: str = APP_SECRET) -> tuple[bytes, dict[str, str]]:
    """The body and headers Meta posts: JSON signed with the app secret."""
    body = json.dumps(payload).encode()
    return body, signed_bytes(body, secret)
