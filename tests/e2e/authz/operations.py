"""The operations of Gotong's API as the OpenAPI document of every installed service lists them, and the scope
each route's guard declares: read from the app itself (built, not started), so the matrix's cases come from what
is served rather than from a list kept by hand."""

from __future__ import annotations

import re
from functools import cache

from litestar import Litestar
from litestar.handlers.base import BaseRouteHandler

from shared.auth import Role
from shared.config import Settings
from shared.guards import declared_roles, declared_scope
from shared.http import create_app
from shared.kernel.scopes import Scope
from shared.service import load_services

Operation = tuple[str, str]
"""(method, path template as the OpenAPI document writes it)."""
HTTP_METHODS = {"get", "put", "post", "patch", "delete"}
_TYPED_PARAMETER = re.compile(r"{(\w+):\w+}")


@cache
def api() -> Litestar:
    """The app of every installed service; building it opens no connection."""
    settings = Settings(database_url="postgresql://unused", nats_url="nats://unused", jwt_secret="x" * 32)
    return create_app(settings, load_services())


def documented(document: dict[str, object] | None = None) -> set[Operation]:
    """Every operation under ``/v1`` of the OpenAPI document (the app's own unless one is given)."""
    paths = (document or api().openapi_schema.to_schema())["paths"]
    assert isinstance(paths, dict)
    return {
        (method.upper(), path)
        for path, item in paths.items()
        if path.startswith("/v1/")
        for method in item
        if method in HTTP_METHODS
    }


def handlers() -> dict[Operation, BaseRouteHandler]:
    """The handler of each operation."""
    found: dict[Operation, BaseRouteHandler] = {}
    for route in api().routes:
        path = _TYPED_PARAMETER.sub(r"{\1}", route.path)
        for handler in getattr(route, "route_handlers", []):
            for method in handler.http_methods:
                if path.startswith("/v1/") and method not in ("HEAD", "OPTIONS"):
                    found[method, path] = handler
    return found


def declared_scopes() -> dict[Operation, Scope | None]:
    """The scope each route's guard names (None: no key may call it)."""
    return {operation: declared_scope(handler) for operation, handler in handlers().items()}


def guarded_roles() -> dict[Operation, frozenset[Role]]:
    """The roles each route's guard lets through (none named: operators only, who pass every guard)."""
    return {operation: declared_roles(handler) or frozenset() for operation, handler in handlers().items()}
