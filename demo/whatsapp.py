"""A stand-in for Meta's WhatsApp Cloud API: a real HTTP server speaking the Graph API's messages endpoint.

``gotong demo --whatsapp-url`` serves one so a Gotong started with ``GOTONG_WHATSAPP_API_URL`` pointing at it
sends its messages there (each is printed as it arrives); the tests use it to count what Gotong sent. It records
every request, answers like Meta (``{"messaging_product": "whatsapp", "contacts": [...], "messages": [{"id":
"wamid..."}]}``) and can be told to be down (an HTTP status, or refusing connections).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

GRAPH_VERSION = "v21.0"


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
class FakeGraphApi:
    """The fake Graph API; ``api_url`` is what GOTONG_WHATSAPP_API_URL should name. With ``token`` set, only that
    Bearer token is let in; with ``phone_number_id`` set, only that number's endpoint exists."""

    port: int = 0
    host: str = "127.0.0.1"
    token: str | None = None
    phone_number_id: str | None = None
    on_message: Callable[[Sent], None] | None = None
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
        self._answer(handler, 200, answer)
        if self.on_message is not None:
            self.on_message(sent)

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
