"""Every route of every service says what an API key needs to call it, and no scope promises a role it lacks.

Routes naming no scope take no keys at all; those are listed here, so a new route closed to keys by
oversight shows up as a failure rather than as a silent gap in what integrations can do."""

from __future__ import annotations

import pytest
from litestar import Litestar

from shared.auth import Role
from shared.config import Settings
from shared.guards import declared_roles, declared_scope
from shared.http import create_app
from shared.kernel.scopes import SCOPE_ROLES
from shared.service import load_services

pytestmark = pytest.mark.unit

PEOPLE_ONLY = {"accounts"}  # services whose routes are managed by people alone
OPEN_TO_KEYS = {"GET /v1/organisations/{org:str}/audit"}  # … but for these: a key may read its organisation's trail


def _app() -> Litestar:
    settings = Settings(database_url="postgresql://unused", nats_url="nats://unused", jwt_secret="x" * 32)
    return create_app(settings, load_services())


def _handlers() -> list[tuple[str, str, object]]:
    found = []
    for route in _app().routes:
        for handler in getattr(route, "route_handlers", []):
            service = handler.opt.get("service")
            if service is None or route.path.startswith("/v1/admin/"):
                continue
            for method in handler.http_methods:
                if method not in ("HEAD", "OPTIONS"):
                    found.append((service, f"{method} {route.path}", handler))
    return found


def test_every_route_of_a_service_open_to_keys_names_a_scope_whose_roles_it_serves() -> None:
    handlers = _handlers()
    assert len(handlers) > 40
    for service, route, handler in handlers:
        scope = declared_scope(handler)  # type: ignore[arg-type]
        if service in PEOPLE_ONLY and route not in OPEN_TO_KEYS:
            assert scope is None, f"{route}: accounts is managed by people, not keys"
            continue
        assert scope is not None, f"{route} names no scope: no API key could call it"
        roles = declared_roles(handler) or frozenset(Role)  # type: ignore[arg-type]
        members = {r.value for r in roles if r is not Role.ADMIN}
        assert members & SCOPE_ROLES[scope], f"{route}: no role of a key with {scope} may call it"
