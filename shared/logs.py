"""Structured JSON logs: each line says which service, request, flow, event and trace it belongs to, and
never carries a secret.

The HTTP middleware and the consumers, projectors and relays set the context variables below; the formatter
adds them, with the current span's trace and span ids, to every line. Code never logs a token, key, password or
secret in the first place; the formatter redacts what looks like one anyway (Authorization values, bearer
tokens, API keys, JWTs, passwords in URLs, ``token=``/``secret=``/``password=`` pairs), as a second line of
defence.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from contextlib import AbstractContextManager
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import TextIO

from opentelemetry import trace

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)
service: ContextVar[str | None] = ContextVar("service", default=None)
event_id: ContextVar[str | None] = ContextVar("event_id", default=None)
_CONTEXT = (
    ("service", service),
    ("request_id", request_id),
    ("correlation_id", correlation_id),
    ("event_id", event_id),
)
_VARIABLES = dict(_CONTEXT)

REDACTED = "[redacted]"
_SECRET_NAME = r"[\w.-]*(?:token|secret|passw(?:or)?d|pwd|pepper|api[_-]?key|credential|private[_-]?key)[\w.-]*"
_REDACTIONS: list[tuple[re.Pattern[str], str]] = [
    # "Authorization: Bearer x", ('authorization', b'Basic x'), "Proxy-Authorization=x", (b'set-cookie', b's=x')
    (
        re.compile(r"(?i)((?:proxy-)?authorization|(?:set-)?cookie)(['\"]?\s*[:=,]\s*(?:(?-i:b)?['\"])?)[^'\"\r\n]+"),
        rf"\1\2{REDACTED}",
    ),
    (re.compile(r"(?i)\b(bearer|basic|digest)(\s+)[\w.~+/=-]+"), rf"\1\2{REDACTED}"),
    # user:password@ and token@ in any URL (database, NATS, OTLP endpoints)
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s/:@]*:)[^\s/@]+@"), rf"\1{REDACTED}@"),
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^\s/:@]+@"), rf"\1{REDACTED}@"),  # nats://<token>@
    # token=…, "client_secret": "…", GOTONG_JWT_SECRET=…, password: …
    (
        re.compile(rf"(?i)\b({_SECRET_NAME})(['\"]?\s*[:=]\s*['\"]?)(?!{re.escape(REDACTED)})[^\s'\"&,;}}\]]+"),
        rf"\1\2{REDACTED}",
    ),
    # Gotong API keys (gk_<key id>_<secret>) and JWTs, wherever they appear
    (re.compile(r"\bgk_[\w-]+"), f"gk_{REDACTED}"),
    (re.compile(r"\beyJ[\w-]*\.[\w-]+\.[\w-]*"), REDACTED),
]


_SUSPECT = re.compile(
    r"(?i)auth|cookie|bearer|basic|digest|@|gk_|eyJ|token|secret|passw|pwd|pepper|api.?key|credential|private"
)
"""A word every pattern above needs: a line without one is kept as it is, at the cost of one scan."""


def redact(text: str) -> str:
    """``text`` with anything shaped like a credential replaced by ``[redacted]``."""
    if _SUSPECT.search(text) is None:
        return text
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


def bound(**values: str | None) -> AbstractContextManager[None]:
    """Set some of the context variables (``service``, ``request_id``, ``correlation_id``, ``event_id``) for the
    block, and restore them after."""
    return _Bound(values)


class _Bound:
    """``bound``'s block without a generator: consumers enter one for every event they handle."""

    __slots__ = ("_tokens", "_values")

    def __init__(self, values: dict[str, str | None]) -> None:
        self._values = values
        self._tokens: list[tuple[ContextVar[str | None], Token[str | None]]] = []

    def __enter__(self) -> None:
        self._tokens = [(_VARIABLES[name], _VARIABLES[name].set(value)) for name, value in self._values.items()]

    def __exit__(self, *_: object) -> None:
        for variable, token in reversed(self._tokens):
            variable.reset(token)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        for name, variable in _CONTEXT:
            if (value := variable.get()) is not None:
                entry[name] = value
        span = trace.get_current_span().get_span_context()
        if span.is_valid:
            entry["trace_id"] = f"{span.trace_id:032x}"
            entry["span_id"] = f"{span.span_id:016x}"
        for key, value in record.__dict__.get("fields", {}).items():
            entry[key] = redact(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["error"] = redact(self.formatException(record.exc_info))
        elif record.exc_text:
            entry["error"] = redact(record.exc_text)
        return json.dumps(entry, default=lambda value: redact(str(value)))


class TextFormatter(logging.Formatter):
    """Plain lines for a terminal, redacted like the JSON ones."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def configure_logging(level: str = "INFO", *, as_json: bool = True, stream: TextIO | None = None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if as_json else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)  # the middleware logs each request once
    logging.getLogger("httpcore").setLevel(logging.INFO)  # its DEBUG is a wire trace, headers and all
