"""The OpenAPI document says what the API really does: every problem a route can answer, and bodies that
refuse fields they do not know."""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import msgspec
from litestar import Request, Response, Router, get
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler

from shared.problems import BODY_ROUTE, EVERY_ROUTE, problem_responses


def _handlers(route_handlers: Iterable[ControllerRouterHandler]) -> Iterable[HTTPRouteHandler]:
    for handler in route_handlers:
        if isinstance(handler, HTTPRouteHandler):
            yield handler


def document_problems(route_handlers: Iterable[ControllerRouterHandler]) -> None:
    """Add the problems every route may answer to each handler's own (its own descriptions win)."""
    for handler in _handlers(route_handlers):
        takes_body = "data" in inspect.signature(handler.fn).parameters
        statuses = EVERY_ROUTE + (BODY_ROUTE if takes_body else ())
        handler.responses = {**problem_responses(*statuses), **(handler.responses or {})}


def _referenced(schema: Any, components: dict[str, Any], seen: set[str]) -> None:
    """Collect the names of the component schemas ``schema`` reaches."""
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            name = ref.rsplit("/", 1)[1]
            if name not in seen and name in components:
                seen.add(name)
                _referenced(components[name], components, seen)
        for value in schema.values():
            _referenced(value, components, seen)
    elif isinstance(schema, list):
        for item in schema:
            _referenced(item, components, seen)


def closed_bodies(route_handlers: Iterable[ControllerRouterHandler]) -> frozenset[str]:
    """The names of the structs in request bodies that refuse fields they do not know."""
    types = [
        hints["data"]
        for handler in _handlers(route_handlers)
        if "data" in (hints := typing.get_type_hints(handler.fn, include_extras=True))
    ]
    bare = [typing.get_args(t)[0] if typing.get_origin(t) is typing.Annotated else t for t in types]
    infos = msgspec.inspect.multi_type_info([t for t in bare if isinstance(t, type)])
    names: set[str] = set()
    pending: list[msgspec.inspect.Type] = list(infos)
    while pending:
        info = pending.pop()
        if isinstance(info, msgspec.inspect.StructType):
            if info.cls.__name__ in names:
                continue
            if info.forbid_unknown_fields:
                names.add(info.cls.__name__)
            pending.extend(field.type for field in info.fields)
        else:
            pending.extend(_inner(info))
    return frozenset(names)


def _inner(info: msgspec.inspect.Type) -> list[msgspec.inspect.Type]:
    match info:
        case msgspec.inspect.UnionType(types=types):
            return list(types)
        case (
            msgspec.inspect.ListType(item_type=item)
            | msgspec.inspect.SetType(item_type=item)
            | msgspec.inspect.FrozenSetType(item_type=item)
            | msgspec.inspect.VarTupleType(item_type=item)
        ):
            return [item]
        case msgspec.inspect.TupleType(item_types=items):
            return list(items)
        case msgspec.inspect.DictType(key_type=key, value_type=value):
            return [key, value]
        case msgspec.inspect.Metadata(type=inner):
            return [inner]
    return []


def close_request_bodies(document: dict[str, Any], closed: frozenset[str]) -> None:
    """Request bodies of ``closed`` structs refuse unknown fields (422 "is not a known field"): say so with
    ``additionalProperties: false`` on each of their schemas a request body reaches."""
    components: dict[str, Any] = document.get("components", {}).get("schemas", {})
    bodies: set[str] = set()
    for path in document.get("paths", {}).values():
        for operation in path.values():
            if isinstance(operation, dict) and "requestBody" in operation:
                _referenced(operation["requestBody"], components, bodies)
    for name in bodies & closed:
        schema = components[name]
        if schema.get("type") == "object" and "properties" in schema:
            schema["additionalProperties"] = False


Document = Callable[[], dict[str, Any]]
"""The OpenAPI document of the whole API, when a process documents more services than it serves."""
SWAGGER_UI = Path(__file__).parent / "swagger_ui"
ASSETS = "/schema/assets"


class OpenAPIDocument(JsonRenderPlugin):
    """``/schema/openapi.json``, with request bodies closed (Litestar does not express msgspec's
    ``forbid_unknown_fields``)."""

    def __init__(self, closed: frozenset[str], document: Document | None = None) -> None:
        super().__init__()
        self.closed = closed
        self.document = document

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        schema = self.document() if self.document else openapi_schema
        close_request_bodies(schema, self.closed)  # idempotent; Litestar keeps one document per app
        return super().render(request, schema)


class DocsPage(SwaggerRenderPlugin):
    """``/schema``: Swagger UI 5 (it renders OpenAPI 3.1), its assets served by this process: no CDN."""

    def __init__(self, closed: frozenset[str], document: Document | None = None) -> None:
        super().__init__(
            path="/",
            js_url=f"{ASSETS}/swagger-ui-bundle.js",
            css_url=f"{ASSETS}/swagger-ui.css",
            standalone_preset_js_url=f"{ASSETS}/swagger-ui-standalone-preset.js",
            favicon=f"<link rel='icon' type='image/png' href='{ASSETS}/favicon-32x32.png'>",
        )
        self.closed = closed
        self.document = document

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        schema = self.document() if self.document else openapi_schema
        close_request_bodies(schema, self.closed)
        return super().render(request, schema)


@functools.cache
def _asyncapi() -> bytes:
    from events.schema import asyncapi, json_schema

    return msgspec.json.encode(asyncapi(json_schema()))


@get("/schema/asyncapi.json", include_in_schema=False, sync_to_thread=False)
def asyncapi_document() -> Response[bytes]:
    """The AsyncAPI document of every service's events (what other services may subscribe to)."""
    return Response(_asyncapi(), media_type="application/json")


def docs_routes() -> list[Router | Any]:
    """The docs page's assets and the events' AsyncAPI document."""
    assets = create_static_files_router(path=ASSETS, directories=[SWAGGER_UI], include_in_schema=False)
    return [assets, asyncapi_document]
