"""What an API key may do: the scopes, and the roles each can ever be useful to.

Each route's guard names the scope it needs (``shared/guards.py``); a key holds some of them. A key acts
with its organisation's role, so a scope no route of that role needs is refused when the key is made (a
buyer's key cannot hold ``pools:write``). A test checks every route's guard against this table.
"""

from __future__ import annotations

from enum import StrEnum


class Scope(StrEnum):
    CATALOG_READ = "catalog:read"
    CATALOG_WRITE = "catalog:write"
    ORDERS_READ = "orders:read"
    ORDERS_WRITE = "orders:write"
    POOLS_READ = "pools:read"
    POOLS_WRITE = "pools:write"
    LOTS_DELIVER = "lots:deliver"
    REQUESTS_READ = "requests:read"
    REQUESTS_ANSWER = "requests:answer"
    QUALITY_READ = "quality:read"
    QUALITY_WRITE = "quality:write"
    CONTACTS_READ = "contacts:read"
    CONTACTS_WRITE = "contacts:write"
    AUDIT_READ = "audit:read"
    WEBHOOKS_READ = "webhooks:read"
    WEBHOOKS_WRITE = "webhooks:write"


_EVERYONE = frozenset({"buyer", "aggregator", "msme", "inspector"})

SCOPE_ROLES: dict[Scope, frozenset[str]] = {
    Scope.CATALOG_READ: _EVERYONE,
    Scope.CATALOG_WRITE: frozenset({"msme", "aggregator"}),
    Scope.ORDERS_READ: _EVERYONE,
    Scope.ORDERS_WRITE: frozenset({"buyer", "aggregator"}),
    Scope.POOLS_READ: frozenset({"aggregator"}),
    Scope.POOLS_WRITE: frozenset({"aggregator"}),
    Scope.LOTS_DELIVER: frozenset({"aggregator", "msme"}),
    Scope.REQUESTS_READ: frozenset({"msme", "aggregator"}),
    Scope.REQUESTS_ANSWER: frozenset({"msme"}),
    Scope.QUALITY_READ: _EVERYONE,
    Scope.QUALITY_WRITE: frozenset({"inspector"}),
    Scope.CONTACTS_READ: frozenset({"msme", "aggregator"}),
    Scope.CONTACTS_WRITE: frozenset({"msme", "aggregator"}),
    Scope.AUDIT_READ: _EVERYONE,
    Scope.WEBHOOKS_READ: frozenset({"buyer", "aggregator"}),
    Scope.WEBHOOKS_WRITE: frozenset({"buyer", "aggregator"}),
}


def scopes_for(role: str) -> list[str]:
    """The scopes a key acting with ``role`` may hold."""
    return [scope.value for scope, roles in SCOPE_ROLES.items() if role in roles]
