"""The accounts service: organisations, their members, invitations and API keys, and the audit trail of what
everyone did in every service."""

from __future__ import annotations

from events.accounts import CODEC
from services.accounts.api import ROUTES
from services.accounts.handlers import audit
from services.accounts.read.projections import PROJECTION
from services.accounts.read.tables import MIGRATIONS
from services.accounts.workers import audit_retention_worker
from shared.service import Service

service = Service(
    name="accounts",
    codec=CODEC,
    routes=ROUTES,
    migrations=MIGRATIONS,
    projections=[PROJECTION],
    workers=[audit_retention_worker],
    follows=audit,
)
