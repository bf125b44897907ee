"""A webhook receiver for tests: a real HTTP server (uvicorn, its own thread and loop, a free port) that
verifies every message it gets with an independent implementation of Standard Webhooks (the
``standardwebhooks`` package from PyPI), keeps them, and can be down (refusing connections, or answering 503)
for as long as a test wants."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from shared.dev import free_port

FAILURE_BODY = "the warehouse system is down for maintenance; " * 40  # longer than the 1 kB Gotong keeps


@dataclass(frozen=True)
class Received:
    """One request as it arrived, and the secrets (of those the receiver knew) that verify its signature."""

    message_id: str
    timestamp: str
    signature: str
    body: bytes
    path: str
    host: str
    verified_by: tuple[str, ...]
    answered: int

    @property
    def payload(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed

    @property
    def type(self) -> str:
        return str(self.payload["type"])

    @property
    def data(self) -> dict[str, Any]:
        data: dict[str, Any] = self.payload["data"]
        return data


@dataclass
class Receiver:
    """What the receiver got; ``answer`` is the status it answers with while it is up (2xx accepts)."""

    port: int
    secrets: list[str] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    answer: int = 204
    hang_seconds: float = 0.0
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None

    def url(self, path: str = "/hooks") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def accepted(self) -> list[Received]:
        """The messages it answered with a 2xx, in the order they arrived."""
        return [r for r in self.received if 200 <= r.answered < 300]

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        verified = []
        for secret in list(self.secrets):
            try:
                Webhook(secret).verify(body, headers)
            except WebhookVerificationError:
                continue
            verified.append(secret)
        status = self.answer
        self.received.append(
            Received(
                message_id=headers.get("webhook-id", ""),
                timestamp=headers.get("webhook-timestamp", ""),
                signature=headers.get("webhook-signature", ""),
                body=body,
                path=scope["path"],
                host=headers.get("host", ""),
                verified_by=tuple(verified),
                answered=status,
            )
        )
        if self.hang_seconds:
            await asyncio.sleep(self.hang_seconds)
        answer = b"" if status == 204 else (b"ok" if status < 300 else FAILURE_BODY.encode())
        sent = [(b"content-type", b"text/plain")]
        if 300 <= status < 400:
            sent.append((b"location", f"http://127.0.0.1:{self.port}/redirected".encode()))
        await send({"type": "http.response.start", "status": status, "headers": sent})
        await send({"type": "http.response.body", "body": answer})

    async def start(self) -> None:
        """Listen (again) on the receiver's port."""
        config = uvicorn.Config(self, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self._server = server = uvicorn.Server(config)
        self._thread = thread = threading.Thread(target=server.run, name="webhook-receiver", daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test webhook receiver did not start")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        """Stop listening: connections are refused until ``start``."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            await asyncio.to_thread(self._thread.join, 10)
            self._server = self._thread = None


@asynccontextmanager
async def running_receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver(port=free_port())
    await receiver.start()
    try:
        yield receiver
    finally:
        await receiver.stop()
