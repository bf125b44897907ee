"""A stand-in for Meta's WhatsApp Cloud API: a real HTTP server speaking the Graph API's messages endpoint.

``gotong demo --whatsapp-url`` serves one so a Gotong started with ``GOTONG_WHATSAPP_API_URL`` pointing at it
sends its messages there (each is printed as it arrives); the tests use it to count what Gotong sent. It records
every request, answers like Meta (``{"messaging_product": "whatsapp", "contacts": [...], "messages": [{"id":
"wamid..."}]}``) and can be told to be down (an HTTP status, or refusing connections) or slow; given the approved
templates, it refuses a template message that names none of them or fills one wrongly, as Meta does.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

GRAPH_VERSION = "v21.0"


@dataclass
class Sent:
    """One request the fake received."""

    path: str
    authorization: str
    body: dict[str, Any]
    received_at: float = field(default_factory=time.monotonic)

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
        """(id, title) of an interactive message's reply buttons; (payload, "") of a template's quick replies, and
        (code, "copy code") of an authentication template's copy-code button."""
        if self.kind == "interactive":
            return [(b["reply"]["id"], b["reply"]["title"]) for b in self.body["interactive"]["action"]["buttons"]]
        if self.kind == "template":
            found = []
            for component in self.body["template"]["components"]:
                if component["type"] != "button":
                    continue
                parameter = component["parameters"][0]
                if component.get("sub_type") == "url":
                    found.append((str(parameter["text"]), "copy code"))
                else:
                    found.append((str(parameter["payload"]), ""))
            return found
        return []

    @property
    def delivery_id(self) -> str:
        """The delivery Gotong sent this for (``biz_opaque_callback_data``): one per trigger and recipient."""
        return str(self.body.get("biz_opaque_callback_data", ""))


Approved = dict[tuple[str, str], dict[str, Any]]
"""Approved templates by (name, language code), each in the Graph API's shape (as whatsapp_templates.json)."""


def approved(path: Path) -> Approved:
    """The templates of a file shaped like ``services/notifications/channels/whatsapp_templates.json``."""
    return {(t["name"], t["language"]): t for t in json.loads(path.read_text())["templates"]}


def template_problem(template: dict[str, Any], templates: Approved) -> tuple[int, dict[str, Any]] | None:
    """What Meta answers a template message that names no approved template or fills it wrongly (None if right):
    as many body parameters as the text has placeholders (an authentication template: one, the code, at most 15
    characters, again in its copy-code button's ``url`` parameter); a payload for each quick-reply button."""
    key = (str(template.get("name")), str((template.get("language") or {}).get("code")))
    found = templates.get(key)
    if found is None:
        return 404, {"error": {"message": f"(#132001) Template name does not exist in the translation: {key}",
                               "code": 132001}}  # fmt: skip
    sent = {c.get("type"): c for c in template.get("components") or [] if c.get("type") != "button"}
    body = [p.get("text") for p in (sent.get("body") or {}).get("parameters") or []]
    buttons = [c for c in template.get("components") or [] if c.get("type") == "button"]
    parts = {c["type"]: c for c in found["components"]}
    if found["category"] == "AUTHENTICATION":
        code = body[0] if len(body) == 1 else None
        copied = [b["parameters"][0].get("text") for b in buttons if b.get("sub_type") == "url"]
        right = code is not None and len(str(code)) <= 15 and copied == [code] and len(buttons) == 1
    else:
        wanted = len(set(re.findall(r"\{\{(\d+)\}\}", parts["BODY"]["text"])))
        replies = [b for b in (parts.get("BUTTONS") or {}).get("buttons", []) if b["type"] == "QUICK_REPLY"]
        payloads = [b for b in buttons if b.get("sub_type") == "quick_reply" and b["parameters"][0].get("payload")]
        right = len(body) == wanted and all(body) and len(payloads) == len(buttons) == len(replies)
    if right:
        return None
    return 400, {"error": {"message": "(#132000) Number of parameters does not match the expected number of params",
                           "code": 132000}}  # fmt: skip


@dataclass
class FakeGraphApi:
    """The fake Graph API; ``api_url`` is what GOTONG_WHATSAPP_API_URL should name. With ``token`` set, only that
    Bearer token is let in; with ``phone_number_id`` set, only that number's endpoint exists."""

    port: int = 0
    host: str = "127.0.0.1"
    token: str | None = None
    phone_number_id: str | None = None
    on_message: Callable[[Sent], None] | None = None
    status: int = 200
    delay: float = 0.0
    """Seconds each message takes to be answered once received, like a slow provider (requests are concurrent)."""
    templates: Approved | None = None
    """With them, a template message must name one of these and fill it as Meta checks; else any is taken."""
    sent: list[Sent] = field(default_factory=list)
    refused: int = 0
    """Requests answered with an error while down."""
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _counter: int = 0

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.port}/{GRAPH_VERSION}"

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

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
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
        if self.status != 200:
            with self._lock:
                self.refused += 1
            self._answer(handler, self.status, {"error": {"message": "Service temporarily unavailable", "code": 2}})
            return
        parts = handler.path.split("/")
        if len(parts) != 4 or parts[1] != GRAPH_VERSION or parts[3] != "messages" or (
            self.phone_number_id is not None and parts[2] != self.phone_number_id
        ):  # fmt: skip
            self._answer(handler, 404, {"error": {"message": f"Unknown path {handler.path}", "code": 100}})
            return
        authorization = handler.headers.get("Authorization", "")
        if not authorization.startswith("Bearer ") or (
            self.token is not None and authorization != f"Bearer {self.token}"
        ):
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
        problem = template_problem(body["template"], self.templates) if body["type"] == "template" and (
            self.templates is not None
        ) else None  # fmt: skip
        if problem is not None:
            self._answer(handler, *problem)
            return
        with self._lock:
            self._counter += 1
            message_id = f"wamid.HBgL{self._counter:012d}"
            sent = Sent(handler.path, handler.headers.get("Authorization", ""), body)
            self.sent.append(sent)
        answer = {
            "messaging_product": "whatsapp",
            "contacts": [{"input": body["to"], "wa_id": str(body["to"]).removeprefix("+")}],
            "messages": [{"id": message_id}],
        }
        if self.delay:
            time.sleep(self.delay)  # this request's own thread
        self._answer(handler, 200, answer)
        if self.on_message is not None:
            self.on_message(sent)

    @staticmethod
    def _answer(handler: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        try:
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the sender is gone (its process was killed): the message was received all the same

    def messages_to(self, phone: str) -> list[Sent]:
        with self._lock:
            return [s for s in self.sent if s.to == phone]

    def message_ids(self) -> list[str]:
        with self._lock:
            return [f"wamid.HBgL{n:012d}" for n in range(1, self._counter + 1)]
