"""No secret is ever logged: a flow across every service, served by uvicorn with its access log on, at DEBUG,
with a known JWT secret, API key pepper, database password and NATS token, bearer tokens and an API key in
headers (and, carelessly, in a query string), a WhatsApp number's token, app secret and verify token (which Meta
sends in a query string), a phone page session, and a webhook subscription's signing secret. Every record is
captured; none of the secrets is in any line written, nor in what Gotong's own code asks to log, nor in any span.
The lines say which service, request, flow, event and trace they belong to.
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

import asyncpg
import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from services.notifications.phone.sessions import SESSION_COOKIE
from shared import tracing
from shared.auth import Role, TokenAuthority
from shared.http import create_app
from shared.logs import configure_logging
from shared.service import load_services
from tests.conftest import Servers
from tests.integration.catalog.conftest import msme_body
from tests.integration.flow.marketplace import eventually
from tests.integration.pooling.harness import http_server
from tests.support.app import settings_for
from tests.support.phone import sign_in
from tests.support.receiver import Receiver, running_receiver
from tests.support.whatsapp import FakeWhatsApp, fake_whatsapp, signed, text_message

pytestmark = pytest.mark.integration

WEBHOOK = "/v1/channels/whatsapp/webhook"
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


UVICORN = ("uvicorn", "uvicorn.error", "uvicorn.access")


def uvicorn_logs_to_root() -> None:
    """uvicorn's loggers as `gotong serve` leaves them (no handlers of their own: the root's JSON lines), the
    access log on."""
    for name in UVICORN:
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
        logger.setLevel(logging.DEBUG if name == "uvicorn.access" else logging.NOTSET)


@pytest.fixture
def captured() -> Iterator[Captured]:
    """Gotong's JSON logs at DEBUG into a buffer (uvicorn's access log too), every record, and every span."""
    root, loggers = logging.getLogger(), [logging.getLogger(name) for name in UVICORN]
    saved = (list(root.handlers), root.level)
    uvicorn_saved = [(list(logger.handlers), logger.propagate, logger.level) for logger in loggers]
    written, records, spans = io.StringIO(), Records(), InMemorySpanExporter()
    configure_logging("DEBUG", as_json=True, stream=written)
    uvicorn_logs_to_root()  # the access log is quiet in production (the middleware logs each request); on here
    root.addHandler(records)
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    tracing.enable(provider)
    try:
        yield Captured(written, records, spans)
    finally:
        tracing.disable()
        provider.shutdown()
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        for logger, (handlers, propagate, level) in zip(loggers, uvicorn_saved, strict=True):
            logger.handlers[:], logger.propagate = handlers, propagate
            logger.setLevel(level)


def with_password(url: str, password: str) -> str:
    """``url`` with ``password`` in its user info (the test server trusts local connections, so it is unused)."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{parts.username or 'postgres'}:{password}@{host}"))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass(frozen=True)
class WhatsApp:
    """A WhatsApp number's secrets, and the fake Graph API that lets in only its token."""

    token: str
    app_secret: str
    verify_token: str
    graph: FakeWhatsApp


@pytest.fixture
def whatsapp(monkeypatch: pytest.MonkeyPatch) -> Iterator[WhatsApp]:
    token, app_secret, verify_token = (secrets.token_urlsafe(32) for _ in range(3))
    with fake_whatsapp() as graph:
        graph.token = token
        configured = graph.env() | {
            "GOTONG_WHATSAPP_TOKEN": token,
            "GOTONG_WHATSAPP_APP_SECRET": app_secret,
            "GOTONG_WHATSAPP_VERIFY_TOKEN": verify_token,
            "GOTONG_PUBLIC_URL": "https://gotong.example.id",
        }
        for name, value in configured.items():
            monkeypatch.setenv(name, value)
        yield WhatsApp(token, app_secret, verify_token, graph)


async def keys_story(client: httpx.AsyncClient, operator: str, dewi: str) -> str:
    """An organisation, its API key (shown once) used in a header and, carelessly, in a query string."""
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
    key: str = made.json()["key"]

    async def catalog_knows_the_key() -> bool:
        return (await client.get("/v1/msmes", headers=bearer(key))).status_code == 200

    await eventually(catalog_knows_the_key)  # accounts → NATS → catalog's mirror
    created = await client.post("/v1/msmes", json=msme_body(org="cirebon-trading"), headers={"X-API-Key": key})
    assert created.status_code == 201, created.text
    careless = await client.get("/v1/msmes", params={"api_key": key, "access_token": dewi}, headers=bearer(key))
    assert careless.status_code == 200
    assert (await client.get("/v1/msmes", headers={"X-API-Key": key[:-4] + "abcd"})).status_code == 401
    return key


async def whatsapp_story(client: httpx.AsyncClient, whatsapp: WhatsApp, dewi: str, siti: str) -> str:
    """Meta's handshake (the verify token in the query), a contact's message signed with the app secret and
    answered through the Graph API with the token; a forged signature refused."""
    handshake = {"hub.mode": "subscribe", "hub.verify_token": whatsapp.verify_token, "hub.challenge": "1158201444"}
    answered = await client.get(WEBHOOK, params=handshake)
    assert answered.status_code == 200 and answered.text == "1158201444"
    body = msme_body(name="Rotan Ibu Siti", nib="9120000000099", org="siti-rotan")
    msme = await client.post("/v1/msmes", json=body, headers=bearer(dewi))
    assert msme.status_code == 201, msme.text
    phone = "+6281234567890"
    contact = {"name": "Bu Siti", "role": "owner", "phone": phone, "language": "id"}

    async def added() -> dict[str, Any] | None:
        response = await client.post(f"/v1/msmes/{msme.json()['id']}/contacts", json=contact, headers=bearer(dewi))
        return dict(response.json()) if response.status_code == 201 else None

    contact_id = (await eventually(added))["id"]
    consent = {"evidence": "signed form"}
    assert (await client.post(f"/v1/contacts/{contact_id}/opt-in", json=consent, headers=bearer(siti))).is_success
    message, headers = signed(text_message(phone, "halo, ini Bu Siti"), whatsapp.app_secret)
    assert (await client.post(WEBHOOK, content=message, headers=headers)).status_code == 200
    forged, forged_headers = signed(text_message(phone, "halo"), secrets.token_urlsafe(16))
    assert (await client.post(WEBHOOK, content=forged, headers=forged_headers)).status_code == 401

    async def replied() -> bool:
        return bool(whatsapp.graph.messages_to(phone))

    await eventually(replied)  # the inbound worker answered through the Graph API, with the token
    return phone


async def phone_story(client: httpx.AsyncClient, database_url: str, graph: FakeWhatsApp, phone: str) -> str:
    """The contact signs in to the phone page with a code sent by WhatsApp; returns the session cookie."""
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    try:
        signed_in = await sign_in(client, pool, graph, phone)
    finally:
        await pool.close()
    assert signed_in.status_code in (302, 303), signed_in.text
    session = signed_in.cookies.get(SESSION_COOKIE)
    assert session, signed_in.headers
    return session


async def webhooks_story(client: httpx.AsyncClient, receiver: Receiver, dewi: str) -> str:
    """A subscription (its secret shown once) and a ping signed with that secret."""

    async def subscribed() -> dict[str, Any] | None:
        body = {"url": receiver.url(), "event_types": ["pool.filled"]}
        response = await client.post("/v1/webhooks", json=body, headers=bearer(dewi))
        return dict(response.json()) if response.status_code == 201 else None

    made = await eventually(subscribed)  # once webhooks' mirror knows dewi administers her organisation
    secret: str = made["secret"]
    receiver.secrets.append(secret)
    pinged = await client.post(f"/v1/webhooks/{made['subscription']['id']}/ping", headers=bearer(dewi))
    assert pinged.status_code == 202, pinged.text

    async def delivered() -> bool:
        return any(secret in r.verified_by for r in receiver.accepted())

    await eventually(delivered)
    return secret


async def test_no_secret_is_logged_and_every_line_says_where_it_belongs(
    captured: Captured, whatsapp: WhatsApp, database_url: str, servers: Servers, nats_prefix: str
) -> None:
    jwt_secret, pepper, db_password, nats_token = (secrets.token_urlsafe(32) for _ in range(4))
    settings = replace(
        settings_for(with_password(database_url, db_password), servers.nats_url, nats_prefix),
        nats_url=servers.nats_url.replace("nats://", f"nats://{nats_token}@"),
        jwt_secret=jwt_secret,
        api_key_pepper=pepper,
        log_level="DEBUG",
        log_json=True,
        pool_size=20,
    )
    tokens = TokenAuthority(secret=jwt_secret)
    operator = tokens.issue(sub="root", role=Role.ADMIN, org="gotong")
    dewi = tokens.issue(sub="dewi", role=Role.AGGREGATOR, org="cirebon-trading")
    siti = tokens.issue(sub="siti", role=Role.MSME, org="siti-rotan")
    forged = TokenAuthority(secret=secrets.token_urlsafe(32)).issue(sub="dewi", role=Role.ADMIN, org="gotong")
    basic_password = secrets.token_urlsafe(16)
    basic = {"Authorization": "Basic " + base64.b64encode(f"dewi:{basic_password}".encode()).decode()}

    app = create_app(settings, load_services())
    async with running_receiver() as receiver:
        uvicorn_logs_to_root()  # the receiver's uvicorn configured its own handlers for them
        async with http_server(app, access_log=True) as client:
            key = await keys_story(client, operator, dewi)
            assert (await client.get("/v1/msmes", headers=bearer(forged))).status_code == 401
            assert (await client.get("/v1/msmes", headers=basic)).status_code == 401
            phone = await whatsapp_story(client, whatsapp, dewi, siti)
            session = await phone_story(client, database_url, whatsapp.graph, phone)
            signing = await webhooks_story(client, receiver, dewi)

            def consumed(service: str, event: str) -> bool:
                return any(
                    line.get("service") == service and line["logger"] == "gotong.consumer" and event in line["message"]
                    for line in captured.lines()
                )

            await eventually(lambda: asyncio.sleep(0, consumed("pooling", "catalog.MsmeRegistered")))

    told = [jwt_secret, pepper, db_password, nats_token, operator, dewi, siti, forged, key, key.split("_", 2)[2]]
    told += [basic_password, basic["Authorization"].split()[1], signing, session]
    told += [whatsapp.token, whatsapp.app_secret, whatsapp.verify_token]
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
    access = [line["message"] for line in lines if line["logger"] == "uvicorn.access" and "token=" in line["message"]]
    assert any("api_key=[redacted]" in line and "access_token=[redacted]" in line for line in access), access
    assert any("hub.verify_token=[redacted]" in line for line in access), access
    registrations = [
        line for line in lines if line["logger"] == "gotong.http" and line["message"].startswith("POST /v1/msmes ")
    ]
    assert len(registrations) == 2
    for request in registrations:
        assert request["service"] == "catalog" and request["status"] == 201
        assert {"request_id", "correlation_id", "trace_id", "span_id"} <= request.keys()
    traces = {request["trace_id"] for request in registrations}
    webhooks = [
        line for line in lines if line["logger"] == "gotong.http" and line["message"].startswith(f"POST {WEBHOOK}")
    ]
    assert webhooks and all(line.get("service") == "notifications" for line in webhooks)  # an open route's too
    taken = [line for line in lines if line["logger"] == "gotong.consumer" and line.get("service") == "pooling"]
    assert any(line.get("correlation_id") and line.get("event_id") and line.get("trace_id") for line in taken)
    projected = [line for line in lines if line["logger"] == "gotong.projection" and line.get("service") == "catalog"]
    assert any(line.get("event_id") and line.get("trace_id") in traces for line in projected)
    published = [line for line in lines if line["logger"] == "gotong.relay" and line.get("service") == "catalog"]
    assert any(line.get("event_id") for line in published)
