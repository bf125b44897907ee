"""JSON log lines: the context they carry, and the formatter's redaction of whatever looks like a credential."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import TracerProvider

from shared import logs
from shared.logs import JsonFormatter, TextFormatter, configure_logging, redact

pytestmark = pytest.mark.unit

JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJkZXdpIn0.q8kZ3mEw0Fh1rJp6Kx2oN9bV4cT7yU5sA3dG1hL0iP8"
KEY = "gk_0190f2a4c3b27e1a8d6f_Xq9vR2mT7kLp4wZs8nBd3cYh"

LEAKS = [
    # (a line someone might log, the secret in it)
    (f"GET /v1/msmes Authorization: Bearer {JWT}", JWT),
    ("headers=[(b'authorization', b'Basic ZGV3aTpodW50ZXIy'), (b'host', b'x')]", "ZGV3aTpodW50ZXIy"),
    ("Proxy-Authorization=Digest username-and-response", "username-and-response"),
    ("return_value=(b'HTTP/1.1', 200, [(b'set-cookie', b'gotong_m=s3ss10n-value; HttpOnly')])", "s3ss10n-value"),
    ("Cookie: gotong_m=s3ss10n-value; lang=id", "s3ss10n-value"),
    ("bearer opaque-access-token-123", "opaque-access-token-123"),
    ("could not connect to postgresql://gotong:hunter2-pw@db:5432/gotong", "hunter2-pw"),
    ("nats: connecting to nats://s3cr3t-nats-token@nats-0:4222", "s3cr3t-nats-token"),
    (f'127.0.0.1:5000 - "GET /v1/msmes?api_key={KEY}&limit=5 HTTP/1.1" 200', KEY.split("_", 2)[2]),
    (f"refused key {KEY}", KEY.split("_", 2)[2]),
    (f"token {JWT} expired", JWT.split(".")[2]),
    ("/v1/feed?access_token=abc.def.ghi&after=3", "abc.def.ghi"),
    ("GOTONG_JWT_SECRET=Zm9vYmFyYmF6cXV4 is too short", "Zm9vYmFyYmF6cXV4"),
    ('{"client_secret": "whatsapp-app-secret-1", "name": "ok"}', "whatsapp-app-secret-1"),
    ("password: correct-horse-battery", "correct-horse-battery"),
    ("GOTONG_API_KEY_PEPPER='pepper-value-9'", "pepper-value-9"),
]
KEPT = [  # what must read as it was
    "POST /v1/orders/01926f3e-7c1a-7d2b-9a44-3b1f5c6d7e8f/confirm 201",
    "relay of orders is active",
    "waiting for http://127.0.0.1:8000/ready",
    "projection pooling.pooling parked event 0192 (DemandAdded at position 12) as dead letter 3",
    "actor key:0190f2a4c3b27e1a8d6f made the order",
    "Idempotency-Key: 7d0c; correlation_id=01926f3e",
]


@pytest.mark.parametrize(("line", "secret"), LEAKS)
def test_a_credential_in_a_line_is_redacted(line: str, secret: str) -> None:
    redacted = redact(line)
    assert secret not in redacted and logs.REDACTED in redacted, redacted


@pytest.mark.parametrize("line", KEPT)
def test_lines_without_credentials_are_kept(line: str) -> None:
    assert redact(line) == line


def record(message: str, *args: object, exc: bool = False, **fields: object) -> logging.LogRecord:
    info = None
    if exc:
        try:
            raise ConnectionError(f"lost postgresql://gotong:hunter2-pw@db/gotong with {JWT}")
        except ConnectionError:
            info = sys.exc_info()
    made = logging.LogRecord("gotong.test", logging.WARNING, __file__, 1, message, args, info)
    made.fields = fields
    return made


def test_a_line_carries_its_service_request_flow_event_and_trace() -> None:
    tracer = TracerProvider().get_tracer("test")
    with (
        logs.bound(service="pooling", request_id="r-1", correlation_id="order-7", event_id="e-9"),
        tracer.start_as_current_span("work") as span,
    ):
        line = json.loads(JsonFormatter().format(record("took %s", "orders.OrderConfirmed.v1", status=201)))
    context = span.get_span_context()
    assert line["message"] == "took orders.OrderConfirmed.v1" and line["level"] == "warning"
    assert (line["service"], line["request_id"], line["correlation_id"], line["event_id"]) == (
        "pooling",
        "r-1",
        "order-7",
        "e-9",
    )
    assert (line["trace_id"], line["span_id"]) == (f"{context.trace_id:032x}", f"{context.span_id:016x}")
    assert line["status"] == 201
    outside = json.loads(JsonFormatter().format(record("idle")))
    assert not {"service", "request_id", "correlation_id", "event_id", "trace_id", "span_id"} & outside.keys()


def test_bound_context_is_restored_after_the_block() -> None:
    with logs.bound(service="orders"):
        with logs.bound(service="pooling", event_id="e-1"):
            assert (logs.service.get(), logs.event_id.get()) == ("pooling", "e-1")
        assert (logs.service.get(), logs.event_id.get()) == ("orders", None)
    assert logs.service.get() is None


def test_arguments_fields_and_tracebacks_are_redacted_too() -> None:
    line = JsonFormatter().format(record("calling %s", f"Bearer {JWT}", exc=True, header=f"Bearer {JWT}"))
    assert JWT not in line and "hunter2-pw" not in line
    parsed = json.loads(line)
    assert "ConnectionError" in parsed["error"] and parsed["header"] == f"Bearer {logs.REDACTED}"
    text = TextFormatter().format(record("dsn %s", "postgresql://gotong:hunter2-pw@db/gotong"))
    assert "hunter2-pw" not in text and "postgresql://gotong:[redacted]@db/gotong" in text


@pytest.fixture
def root_restored() -> Iterator[None]:
    root, access = logging.getLogger(), logging.getLogger("uvicorn.access")
    saved = (list(root.handlers), root.level, access.level)
    try:
        yield
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        access.setLevel(saved[2])


@pytest.mark.usefixtures("root_restored")
def test_configured_logging_writes_redacted_json_lines() -> None:
    stream = io.StringIO()
    configure_logging("DEBUG", as_json=True, stream=stream)
    logging.getLogger("gotong.test").debug("connect %s", "nats://tok3n-value@nats:4222")
    (line,) = [json.loads(text) for text in stream.getvalue().splitlines()]
    assert line["message"] == "connect nats://[redacted]@nats:4222" and line["level"] == "debug"
