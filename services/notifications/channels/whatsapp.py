"""The WhatsApp Cloud API channel: ``POST {api}/{phone_number_id}/messages`` with a Bearer token.

Inside the 24-hour customer-service window (the contact wrote to us in the last 24 hours) a message goes as an
``interactive`` message with its reply buttons (or plain text without buttons); outside it, as the approved
template the message names. ``biz_opaque_callback_data`` carries the delivery id, so status callbacks map back
to the delivery even before its provider message id is recorded.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any

import httpx

from services.notifications.channels import Outgoing, SendFailed
from services.notifications.domain.outbound import OutboundMessage, TemplateCall
from services.notifications.settings import WhatsAppSettings

TIMEOUT = httpx.Timeout(10.0, connect=5.0)
BODY_LIMIT = 1024  # characters of an interactive message's body
TEXT_LIMIT = 4096
RETRYABLE_CODES = {4, 80007, 130429, 131016, 131048, 131056, 133004}
"""Meta's error codes that mean "later": rate limits, throttling, service unavailable."""


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _parameter(text: str) -> str:
    """A template parameter may hold no newline or tab and no more than four spaces in a row."""
    return _clip(re.sub(r"\s+", " ", text).strip() or "-", 1024)


def template_payload(call: TemplateCall, language_code: str) -> dict[str, Any]:
    components: list[dict[str, Any]] = []
    if call.parameters:
        components.append(
            {"type": "body", "parameters": [{"type": "text", "text": _parameter(p)} for p in call.parameters]}
        )
    for index, payload in enumerate(call.button_payloads):
        components.append(
            {
                "type": "button",
                "sub_type": "quick_reply",
                "index": str(index),
                "parameters": [{"type": "payload", "payload": payload}],
            }
        )
    return {"name": call.name, "language": {"code": language_code}, "components": components}


def message_payload(outgoing: Outgoing, languages: dict[str, str]) -> dict[str, Any]:
    """The Graph API body for this delivery, chosen by the 24-hour window."""
    message: OutboundMessage = outgoing.message
    payload: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": outgoing.phone.removeprefix("+"),
        "biz_opaque_callback_data": str(outgoing.delivery_id),
    }
    if not outgoing.in_window and message.template is not None:
        code = languages.get(message.template.language, message.template.language)
        return payload | {"type": "template", "template": template_payload(message.template, code)}
    if message.buttons:
        buttons = [{"type": "reply", "reply": {"id": b.id, "title": b.title}} for b in message.buttons]
        interactive = {
            "type": "button",
            "body": {"text": _clip(message.full_text(), BODY_LIMIT)},
            "action": {"buttons": buttons},
        }
        return payload | {"type": "interactive", "interactive": interactive}
    text = {"body": _clip(message.full_text(), TEXT_LIMIT), "preview_url": message.link is not None}
    return payload | {"type": "text", "text": text}


def _failure(response: httpx.Response) -> SendFailed:
    try:
        error = response.json().get("error", {})
    except ValueError:
        error = {}
    code = error.get("code") if isinstance(error, dict) else None
    title = (error.get("message") or error.get("error_user_msg") or "") if isinstance(error, dict) else ""
    reason = (
        f"HTTP {response.status_code}"
        + (f", code {code}" if code is not None else "")
        + (f": {title}" if title else "")
    )
    temporary = response.status_code in (401, 403, 408, 409, 429) or response.status_code >= 500
    return SendFailed(reason[:500], permanent=not (temporary or code in RETRYABLE_CODES))


class WhatsAppChannel:
    name = "whatsapp"

    def __init__(self, settings: WhatsAppSettings, client: httpx.AsyncClient | None = None) -> None:
        self.settings = settings
        self.url = f"{settings.api_url}/{settings.phone_number_id}/messages"
        self._client = client or httpx.AsyncClient(timeout=TIMEOUT)

    async def send(self, outgoing: Outgoing) -> str:
        body = message_payload(outgoing, self.settings.template_languages)
        try:
            response = await self._client.post(
                self.url, json=body, headers={"Authorization": f"Bearer {self.settings.token}"}
            )
        except httpx.HTTPError as error:
            raise SendFailed(f"{type(error).__name__}: {error}"[:500], permanent=False) from error
        if response.status_code // 100 != 2:
            raise _failure(response)
        try:
            messages = response.json().get("messages") or []
            message_id = str(messages[0]["id"])
        except (ValueError, LookupError, TypeError, AttributeError) as error:
            raise SendFailed(
                f"the Graph API answered without a message id: {response.text[:200]}", permanent=True
            ) from error
        return message_id

    async def close(self) -> None:
        await self._client.aclose()


def signature_valid(app_secret: str, body: bytes, header: str | None) -> bool:
    """``X-Hub-Signature-256: sha256=<hex>`` is the HMAC-SHA256 of the raw body with the app secret."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.removeprefix("sha256=").strip().lower().encode())


def sign(app_secret: str, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value Meta sends with ``body``."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
