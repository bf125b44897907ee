"""Accounts' routes: organisations, members, invitations and API keys."""

from __future__ import annotations

from services.accounts.api import access, organisations

ROUTES = [*organisations.ROUTES, *access.ROUTES]
