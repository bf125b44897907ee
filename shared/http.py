"""The HTTP runtime: ``create_app(settings, services)`` builds one Litestar app serving the chosen services."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import msgspec
from litestar import Litestar, Request, Response, Router, get
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.di import Provide
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi import OpenAPIConfig
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from shared import logs, metrics, tracing
from shared.auth import Principal
from shared.config import Settings
from shared.guards import admit_route
from shared.kernel.clock import Clock
from shared.kernel.errors import MalformedRequest, Unauthenticated
from shared.kernel.ids import new_id
from shared.openapi import DocsPage, Document, OpenAPIDocument, closed_bodies, docs_routes, document_problems
from shared.operations import admin_routes
from shared.problems import PROBLEM_JSON, handle_exception, problem_response, problem_responses
from shared.ratelimit import RateLimits
from shared.runtime import Runtime
from shared.service import Service, ServiceContext
from shared.validation import check_parameters, decode_body

log = logging.getLogger("gotong.http")
_JSON_TYPES = {"application/json", "application/merge-patch+json"}


async def _authenticate(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """Who is calling, within the rate limits: checking a token is quick, so it runs on the event loop
    (Litestar sends a plain function guard to a worker thread, a hop each request would pay for). An API key
    is checked against the identity mirror of the service the route belongs to, and only reaches routes
    naming a scope it holds."""
    runtime: Runtime = connection.app.state.runtime
    limits: RateLimits = connection.app.state.rate_limits
    address = connection.client.host if connection.client else "unknown"
    limits.admit_address(address)
    context = runtime.contexts[handler.opt["service"]]
    try:
        principal = await runtime.tokens.authenticate(connection.headers, context.identities, context.clock.now())
    except Unauthenticated:
        limits.failed_authentication(address)
        raise
    limits.admit(principal)
    admit_route(principal, handler)
    connection.state.principal = principal


async def _admit_address(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """An open route (no bearer token) is still limited per client address."""
    limits: RateLimits = connection.app.state.rate_limits
    limits.admit_address(connection.client.host if connection.client else "unknown")


def _principal(request: Request[Any, Any, Any]) -> Principal:
    principal: Principal = request.state.principal
    return principal


def _body_type(request: Request[Any, Any, Any]) -> Any:
    parameter = request.route_handler.parsed_fn_signature.parameters.get("data")
    if parameter is None:
        return None
    annotation = parameter.annotation
    return annotation if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct) else None


async def _check_body(request: Request[Any, Any, Any]) -> None:
    """Refuse NUL characters in the path or query (422), wrong content types (415), malformed JSON and duplicate
    keys (400), and list every invalid field."""
    check_parameters(request.path_params, request.query_params.multi_items())
    target = _body_type(request)
    if target is None:
        return
    content_type = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if content_type not in _JSON_TYPES:
        raise HTTPException(status_code=415, detail="send the body as application/json")
    body = await request.body()
    if not body:
        raise MalformedRequest("the request needs a JSON body")
    decode_body(body, target)


def _allow(scope: Scope, headers: Any) -> list[tuple[bytes, bytes]]:
    """``Allow`` names every method of the path: Litestar's own answer to OPTIONS names only the methods of
    the first handler registered for a path when several are."""
    template = scope.get("path_template")
    route = next((r for r in scope["app"].routes if getattr(r, "path_format", None) == template), None)
    if route is None:
        return list(headers)
    allow = ", ".join(sorted(route.methods)).encode()
    return [(k, v) for k, v in headers if k.lower() != b"allow"] + [(b"allow", allow)]


def _request_context(app: ASGIApp) -> ASGIApp:
    """Give each request an id and a correlation id, echo them, and log the request in one line."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        headers = {k.decode().lower(): v.decode() for k, v in scope.get("headers", [])}
        rid = headers.get("x-request-id") or str(new_id())
        cid = headers.get("x-correlation-id") or rid
        method, route = scope.get("method", ""), scope.get("path_template") or "unmatched"
        opt = getattr(scope.get("route_handler"), "opt", {})  # routed before middleware runs
        service = opt.get("service") or opt.get("open_service")
        started = time.perf_counter()
        status = 500

        async def send_with_ids(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = message.get("headers", [])
                if scope.get("method") == "OPTIONS":
                    headers = _allow(scope, headers)
                message["headers"] = [
                    *headers,
                    (b"x-request-id", rid.encode()),
                    (b"x-correlation-id", cid.encode()),
                ]
            await send(message)

        with (
            logs.bound(request_id=rid, correlation_id=cid, service=service),
            tracing.serving(method, route, scope["path"], service, headers) as span,
        ):
            try:
                await app(scope, receive, send_with_ids)
            finally:
                elapsed = time.perf_counter() - started
                metrics.observe_request(method, route, status, elapsed)
                tracing.answered(span, status)
                log.info(
                    "%s %s %s",
                    method,
                    scope["path"],
                    status,
                    extra={"fields": {"status": status, "ms": round(elapsed * 1000, 1)}},
                )

    return middleware


@get("/health", include_in_schema=True, tags=["operations"], sync_to_thread=False)
def health() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@get("/ready", tags=["operations"], responses=problem_responses(503))
async def ready(state: State) -> Response[Any]:
    """PostgreSQL and NATS answer, every consumer has caught up with what its stream held at start, and no
    background task is down; ``down`` names tasks waiting for their restart, ``parked`` the events each
    projection could not apply (which do not make a service unready), ``consumes`` the consumers this replica
    runs (each runs in one replica at a time)."""
    runtime: Runtime = state.runtime
    checks = await runtime.is_ready()
    detail = await runtime.readiness_detail()
    if all(checks.values()):
        return Response({"status": "ready", "checks": checks, **detail})
    return Response(
        {
            "type": "/problems/not-ready",
            "title": "Not ready",
            "status": 503,
            "detail": "not ready: " + ", ".join([n for n, ok in checks.items() if not ok] + detail["down"]),
            "checks": checks,
            **detail,
        },
        status_code=503,
        media_type=PROBLEM_JSON,
    )


@get("/metrics", include_in_schema=False)
async def prometheus_metrics(state: State) -> Response[bytes]:
    """Prometheus' view of this process; open like /health, so the public proxy must not route it."""
    return Response(await metrics.exposition(state.runtime), media_type=metrics.CONTENT_TYPE)


def _service_router(service: Service, runtime: Runtime) -> Router:
    def context() -> ServiceContext:
        return runtime.contexts[service.name]

    admin_handlers = admin_routes()
    document_problems([*service.routes, *service.open_routes, *admin_handlers])
    admin = Router(path=f"/admin/{service.name}", route_handlers=admin_handlers)
    return Router(
        path="/v1",
        route_handlers=[*service.routes, admin],
        dependencies={"ctx": Provide(context, sync_to_thread=False)},
        guards=[_authenticate],
        tags=[service.name],
        opt={"service": service.name},
    )


def _openapi(services: Sequence[Service], document: Document | None = None) -> OpenAPIConfig:
    closed = closed_bodies(h for s in services for h in (*s.routes, *s.open_routes))
    return OpenAPIConfig(
        title="Gotong",
        version="1",
        description="Event-sourced backend for export marketplaces: aggregators, MSMEs and foreign buyers.",
        path="/schema",
        render_plugins=[DocsPage(closed, document), OpenAPIDocument(closed, document)],
    )


def _whole_api(services: Sequence[Service], runtime: Runtime) -> Document:
    """The OpenAPI document of ``services``, served here or not, built (once) when first asked for: behind
    the proxy, /schema of any service describes every service's routes."""

    @functools.cache
    def document() -> dict[str, Any]:
        routers = [_service_router(s, runtime) for s in services]
        routers += [_open_router(s, runtime) for s in services if s.open_routes]
        app = Litestar(
            route_handlers=[health, ready, *routers],
            dependencies={"principal": Provide(_principal, sync_to_thread=False)},
            openapi_config=_openapi(services),
            debug=False,
        )
        whole: dict[str, Any] = app.openapi_schema.to_schema()
        return whole

    return document


def _open_router(service: Service, runtime: Runtime) -> Router:
    """The service's routes that need no bearer token, at their own paths, limited per client address."""

    def context() -> ServiceContext:
        return runtime.contexts[service.name]

    return Router(
        path="/",
        route_handlers=list(service.open_routes),
        dependencies={"ctx": Provide(context, sync_to_thread=False)},
        guards=[_admit_address],
        tags=[service.name],
        opt={"open_service": service.name},  # what its log lines and spans name ("service" would ask for a scope)
    )


def create_app(
    settings: Settings,
    services: Sequence[Service],
    *,
    clock: Clock | None = None,
    runtime: Runtime | None = None,
    documented: Sequence[Service] | None = None,
) -> Litestar:
    """Build the app; starting it (lifespan) starts the runtime: pool, NATS, relays, consumers, workers.

    ``documented`` (default: the services served) are the services whose routes /schema describes."""
    runtime = runtime or Runtime(settings, services, clock=clock)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    served = {s.name for s in services}
    whole = documented if documented is not None and {s.name for s in documented} != served else None
    openapi = _openapi(whole or services, _whole_api(whole, runtime) if whole else None)

    templates: list[Any] = [directory for s in services for directory in s.templates]
    return Litestar(
        route_handlers=[
            health,
            ready,
            prometheus_metrics,
            *docs_routes(),
            *(_service_router(s, runtime) for s in services),
            *(_open_router(s, runtime) for s in services if s.open_routes),
        ],
        dependencies={"principal": Provide(_principal, sync_to_thread=False)},
        exception_handlers={Exception: handle_exception},
        before_request=_check_body,
        middleware=[_request_context],
        openapi_config=openapi,
        template_config=TemplateConfig(directory=templates, engine=JinjaTemplateEngine) if templates else None,
        request_max_body_size=settings.max_body_bytes,
        lifespan=[lifespan],
        state=State({"runtime": runtime, "rate_limits": RateLimits(settings)}),
        debug=False,
        logging_config=None,
    )


__all__ = ["create_app", "problem_response"]
