"""A fake of Meta's WhatsApp Cloud API for tests: a real HTTP server in the test process.

It speaks the Graph API's messages endpoint (``POST /<version>/<phone_number_id>/messages`` with a Bearer
token), records every request, answers like Meta (``{"messaging_product": "whatsapp", "contacts": [...],
"messages": [{"id": "wamid..."}]}``), can be told to be down (503, or refusing connections), and builds the
signed webhook notifications Meta sends to Gotong (messages, button replies, statuses).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PHONE_NUMBER_ID = "109876543210"
TOKEN = "test-graph-token"
APP_SECRET = "test-app-secret"
VERIFY_TOKEN = "test-verify-token"
BUSINESS_PHONE = "15550001111"


@dataclass
class Sent:
    """One request the fake received."""

    path: str
    authorization: str
    body: dict[str, Any]

    @property
    def to(self) -> str:
        return "+" + str(self.body.get("to", "")).removeprefix("+")

    @property
    def kind(self) -> str:
        return str(self.body.get("type"))

    @property
    def text(self) -> str:
        match self.kind:
            case "interactive":
                return str(self.body["interactive"]["body"]["text"])
            case "text":
                return str(self.body["text"]["body"])
            case "template":
                parts = [p["text"] for c in self.body["template"]["components"] if c["type"] == "body"
                         for p in c["parameters"]]  # fmt: skip
                return " | ".join(parts)
        return ""

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """(id, title) of an interactive message's reply buttons; (payload, "") of a template's."""
        if self.kind == "interactive":
            return [(b["reply"]["id"], b["reply"]["title"]) for b in self.body["interactive"]["action"]["buttons"]]
        if self.kind == "template":
            return [(c["parameters"][0]["payload"], "") for c in self.body["template"]["components"]
                    if c["type"] == "button"]  # fmt: skip
        return []


@dataclass
class FakeWhatsApp:
    """The fake Graph API; ``api_url`` is what GOTONG_WHATSAPP_API_URL should name."""

    port: int = 0
    status: int = 200
    sent: list[Sent] = field(default_factory=list)
    refused: int = 0
    """Requests answered with an error while down."""
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _counter: int = 0

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v21.0"

    def env(self) -> dict[str, str]:
        return {
            "GOTONG_WHATSAPP_API_URL": self.api_url,
            "GOTONG_WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
            "GOTONG_WHATSAPP_TOKEN": TOKEN,
            "GOTONG_WHATSAPP_APP_SECRET": APP_SECRET,
            "GOTONG_WHATSAPP_VERIFY_TOKEN": VERIFY_TOKEN,
        }

    # --- the server -----------------------------------------------------------------------------------------

    def start(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                fake._handle(self, raw)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def refuse_connections(self) -> None:
        """Down hard: nothing listens on the port (connections are refused) until ``start`` again."""
        self.stop()

    def _handle(self, handler: BaseHTTPRequestHandler, raw: bytes) -> None:
        expected = f"/v21.0/{PHONE_NUMBER_ID}/messages"
        if self.status != 200:
            with self._lock:
                self.refused += 1
            self._answer(handler, self.status, {"error": {"message": "Service temporarily unavailable", "code": 2}})
            return
        if handler.path != expected:
            self._answer(handler, 404, {"error": {"message": f"Unknown path {handler.path}", "code": 100}})
            return
        if handler.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._answer(handler, 401, {"error": {"message": "Invalid OAuth access token", "code": 190}})
            return
        try:
            body = json.loads(raw)
        except ValueError:
            self._answer(handler, 400, {"error": {"message": "Invalid JSON", "code": 100}})
            return
        if body.get("messaging_product") != "whatsapp" or not body.get("to") or body.get("type") not in (
            "text", "interactive", "template"
        ):  # fmt: skip
            self._answer(handler, 400, {"error": {"message": "Invalid parameter", "code": 100}})
            return
        with self._lock:
            self._counter += 1
            message_id = f"wamid.HBgL{self._counter:012d}"
            self.sent.append(Sent(handler.path, handler.headers.get("Authorization", ""), body))
        answer = {
            "messaging_product": "whatsapp",
            "contacts": [{"input": body["to"], "wa_id": str(body["to"]).removeprefix("+")}],
            "messages": [{"id": message_id}],
        }
        self._answer(handler, 200, answer)

    @staticmethod
    def _answer(handler: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def messages_to(self, phone: str) -> list[Sent]:
        with self._lock:
            return [s for s in self.sent if s.to == phone]

    def message_ids(self) -> list[str]:
        with self._lock:
            return [f"wamid.HBgL{n:012d}" for n in range(1, self._counter + 1)]


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
