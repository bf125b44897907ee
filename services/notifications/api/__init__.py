"""Notifications' routes: contacts (with a bearer token) and the WhatsApp webhook (open, signed by Meta)."""

from __future__ import annotations

from services.notifications.api import contacts

ROUTES = [*contacts.ROUTES]
OPEN_ROUTES: list[object] = []
