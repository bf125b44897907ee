"""No secret is ever logged: a flow across every service, served by uvicorn with its access log on, at DEBUG,
with a known JWT secret, API key pepper, database password and NATS token, bearer tokens and an API key in
headers (and, carelessly, in a query string). Every record is captured; none of the secrets is in any line
written, nor in what Gotong's own code asks to log, nor in any span. The lines say which service, request,
flow, event and trace they belong to.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import logging
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from services.accounts.app import service as accounts
from services.catalog.app import service as catalog
from services.orders.app import service as orders
from services.pooling.app import service as pooling
from services.quality.app import service as quality
from shared import tracing
from shared.auth import Role, TokenAuthority
from shared.http import create_app
from shared.logs import configure_logging
from tests.conftest import Servers
from tests.integration.catalog.conftest import msme_body
from tests.integration.pooling.harness import http_server
from tests.support.app import settings_for
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

CLIENT_SIDE = ("uvicorn.access", "httpx", "httpcore")  # what a client sent, as it sent it: redacted when written


class Records(logging.Handler):
    """Every record, as it came."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclass
class Captured:
    written: io.StringIO
    records: Records
    spans: InMemorySpanExporter

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.written.getvalue().splitlines()]


@pytest.fixture
def captured() -> Iterator[Captured]:
    """Gotong's JSON logs at DEBUG into a buffer (uvicorn's access log too), every record, and every span."""
    root, access = logging.getLogger(), logging.getLogger("uvicorn.access")
    saved = (list(root.handlers), root.level, access.level)
    written, records, spans = io.StringIO(), Records(), InMemorySpanExporter()
    configure_logging("DEBUG", as_json=True, stream=written)
    access.setLevel(logging.DEBUG)  # quiet in production (the middleware logs each request); on here
    root.addHandler(records)
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    tracing.enable(provider)
    try:
        yield Captured(written, records, spans)
    finally:
        tracing.disable()
        provider.shutdown()
        root.handlers[:], _, _ = saved
        root.setLevel(saved[1])
        access.setLevel(saved[2])


def with_password(url: str, password: str) -> str:
    """``url`` with ``password`` in its user info (the test server trusts local connections, so it is unused)."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{parts.username or 'postgres'}:{password}@{host}"))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_no_secret_is_logged_and_every_line_says_where_it_belongs(
    captured: Captured, database_url: str, servers: Servers, nats_prefix: str
) -> None:
    jwt_secret, pepper, db_password, nats_token = (secrets.token_urlsafe(32) for _ in range(4))
    settings = replace(
        settings_for(with_password(database_url, db_password), servers.nats_url, nats_prefix),
        nats_url=servers.nats_url.replace("nats://", f"nats://{nats_token}@"),
        jwt_secret=jwt_secret,
        api_key_pepper=pepper,
        log_level="DEBUG",
        log_json=True,
    )
    tokens = TokenAuthority(secret=jwt_secret)
    operator = tokens.issue(sub="root", role=Role.ADMIN, org="gotong")
    dewi = tokens.issue(sub="dewi", role=Role.AGGREGATOR, org="cirebon-trading")
    forged = TokenAuthority(secret=secrets.token_urlsafe(32)).issue(sub="dewi", role=Role.ADMIN, org="gotong")
    basic_password = secrets.token_urlsafe(16)
    basic = {"Authorization": "Basic " + base64.b64encode(f"dewi:{basic_password}".encode()).decode()}

    app = create_app(settings, [accounts, catalog, orders, pooling, quality])
    async with http_server(app, access_log=True) as client:
        body = {
            "org": "cirebon-trading",
            "kind": "aggregator",
            "name": "Cirebon Trading",
            "first_admin": {"subject": "dewi"},
        }
        assert (await client.post("/v1/organisations", json=body, headers=bearer(operator))).status_code == 201
        made = await client.post(
            "/v1/organisations/cirebon-trading/api-keys",
            json={"name": "ERP sync", "scopes": ["catalog:read", "catalog:write"]},
            headers=bearer(dewi),
        )
        assert made.status_code == 201, made.text
        key = made.json()["key"]

        async def catalog_knows_the_key() -> bool:
            return (await client.get("/v1/msmes", headers=bearer(key))).status_code == 200

        await eventually(catalog_knows_the_key)  # accounts → NATS → catalog's mirror
        created = await client.post("/v1/msmes", json=msme_body(org="cirebon-trading"), headers={"X-API-Key": key})
        assert created.status_code == 201, created.text
        careless = await client.get("/v1/msmes", params={"api_key": key, "access_token": dewi}, headers=bearer(key))
        assert careless.status_code == 200
        assert (await client.get("/v1/msmes", headers=bearer(forged))).status_code == 401
        assert (await client.get("/v1/msmes", headers=basic)).status_code == 401
        assert (await client.get("/v1/msmes", headers={"X-API-Key": key[:-4] + "abcd"})).status_code == 401

        def consumed(service: str, event: str) -> bool:
            return any(
                line.get("service") == service and line["logger"] == "gotong.consumer" and event in line["message"]
                for line in captured.lines()
            )

        await eventually(lambda: asyncio.sleep(0, consumed("pooling", "catalog.MsmeRegistered")))

    told = [jwt_secret, pepper, db_password, nats_token, operator, dewi, forged, key, key.split("_", 2)[2]]
    told += [basic_password, basic["Authorization"].split()[1]]
    written = captured.written.getvalue()
    for secret in told:
        assert secret not in written
    for record in captured.records.records:
        if record.name.startswith(CLIENT_SIDE):
            continue
        said = record.getMessage() + str(record.__dict__.get("fields", "")) + (record.exc_text or "")
        leaked = [secret for secret in told if secret in said]
        assert not leaked, f"{record.name} was asked to log a secret: {said}"
    for span in captured.spans.get_finished_spans():
        events = [dict(event.attributes or {}) for event in span.events]
        shown = span.name + json.dumps([dict(span.attributes or {}), events], default=str)
        shown += span.status.description or ""
        assert not [secret for secret in told if secret in shown], shown

    lines = captured.lines()
    access = [line["message"] for line in lines if line["logger"] == "uvicorn.access" and "api_key=" in line["message"]]
    assert access and all("api_key=[redacted]" in line and "access_token=[redacted]" in line for line in access)
    (request,) = [
        line for line in lines if line["logger"] == "gotong.http" and line["message"].startswith("POST /v1/msmes ")
    ]
    assert request["service"] == "catalog" and request["status"] == 201
    assert {"request_id", "correlation_id", "trace_id", "span_id"} <= request.keys()
    event_id = created.json()["id"]
    taken = [line for line in lines if line["logger"] == "gotong.consumer" and line.get("service") == "pooling"]
    assert any(line.get("correlation_id") and line.get("event_id") and line.get("trace_id") for line in taken)
    projected = [line for line in lines if line["logger"] == "gotong.projection" and line.get("service") == "catalog"]
    assert any(line.get("event_id") and line.get("trace_id") == request["trace_id"] for line in projected), event_id
    published = [line for line in lines if line["logger"] == "gotong.relay" and line.get("service") == "catalog"]
    assert any(line.get("event_id") for line in published)
