"""Accounts' routes: organisations, members, invitations, API keys and the audit trail."""

from __future__ import annotations

from services.accounts.api import access, audit, organisations

ROUTES = [*organisations.ROUTES, *access.ROUTES, *audit.ROUTES]
