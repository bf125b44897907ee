"""Who may call a route, declared on the route: ``@post("/pools", guards=[allow(Role.AGGREGATOR)])``.

The router's own guard has already authenticated the caller (``connection.state.principal``); a route's guard
then refuses (403, naming the roles it needs) a caller of any other role. Admins pass every guard. Which
objects a caller may touch (its own orders, its own MSME's requests) is decided by the use case, which answers
404 for another organisation's objects.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Guard

from shared.auth import Principal, Role


def allow(*roles: Role) -> Guard:
    """A guard letting only callers of ``roles`` (and admins) through."""
    if not roles:
        raise ValueError("a route must allow at least one role")

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal: Principal = connection.state.principal
        principal.require(*roles)

    guard.__qualname__ = guard.__name__ = f"allow_{'_'.join(r.value for r in roles)}"
    return guard
