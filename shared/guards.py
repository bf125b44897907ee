"""Who may call a route, declared on the route: ``@post("/pools", guards=[allow(Role.AGGREGATOR, scope=...)])``.

The router's own guard has already authenticated the caller (``connection.state.principal``); a route's guard
then refuses (403, naming the roles it needs) a caller of any other role. Admins pass every guard. Which
objects a caller may touch (its own orders, its own MSME's requests) is decided by the use case, which answers
404 for another organisation's objects.

An API key acts for its organisation with the organisation's role, and only on routes whose guard names a
scope the key holds: ``allow(..., scope=Scope.POOLS_WRITE)``. A route whose guard names no scope takes no
keys at all (people only), so a route added without thinking of keys is closed to them, not open. ``allow()``
with no roles but a scope lets every role through (a read anyone signed in may make).
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Guard

from shared.auth import MEMBER_ROLES, Principal, Role
from shared.kernel.errors import Forbidden
from shared.kernel.scopes import Scope

__all__ = ["Scope", "admit_key", "admit_route", "allow", "declared_roles", "declared_scope"]

ALL_ROLES = (*sorted(MEMBER_ROLES), Role.ADMIN)


def allow(*roles: Role, scope: Scope | None = None) -> Guard:
    """A guard letting only callers of ``roles`` (and admins) through, and API keys only if they hold ``scope``.

    With no roles, every role passes (``scope`` is then required: such a guard exists only to name it).
    """
    if not roles and scope is None:
        raise ValueError("a route must allow at least one role")
    allowed = roles or ALL_ROLES

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal: Principal = connection.state.principal
        principal.require(*allowed)
        admit_key(principal, scope)

    name = "_".join(r.value for r in roles) or "anyone"
    guard.__qualname__ = guard.__name__ = f"allow_{name}" + (f"_{scope.value.replace(':', '_')}" if scope else "")
    guard.roles = frozenset(allowed)  # type: ignore[attr-defined]
    guard.scope = scope  # type: ignore[attr-defined]
    return guard


def admit_key(principal: Principal, scope: Scope | None) -> None:
    """Refuse (403) an API key on a route that takes no keys, or that needs a scope the key does not hold."""
    if principal.scopes is None:
        return
    if scope is None:
        raise Forbidden("this route is for people only: API keys may not call it")
    if scope.value not in principal.scopes:
        raise Forbidden(f"this API key lacks the scope {scope.value} this route needs")


def declared_scope(handler: BaseRouteHandler) -> Scope | None:
    """The scope a route's guards name, if any."""
    for guard in handler.resolve_guards():
        scope = getattr(guard, "scope", None)
        if isinstance(scope, Scope):
            return scope
    return None


def declared_roles(handler: BaseRouteHandler) -> frozenset[Role] | None:
    """The roles a route's guards let through, or None when it has no role guard (every signed-in caller)."""
    for guard in handler.resolve_guards():
        roles = getattr(guard, "roles", None)
        if isinstance(roles, frozenset):
            return roles
    return None


def admit_route(principal: Principal, handler: BaseRouteHandler) -> None:
    """The check the router runs for every caller: a key only on a route that names a scope it holds, a
    newcomer (a member of no organisation) only on a route whose guard names ``Role.NEWCOMER``.

    Routes without a guard of their own are reached by keys and newcomers only through here, so this is what
    keeps them shut.
    """
    if principal.is_newcomer and Role.NEWCOMER not in (declared_roles(handler) or ()):
        raise Forbidden("you belong to no organisation yet: accept an invitation to one first")
    admit_key(principal, declared_scope(handler))
