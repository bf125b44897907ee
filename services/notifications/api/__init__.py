"""Notifications' routes: contacts and the delivery log (bearer token), and the WhatsApp webhook (open: Meta
signs its body instead)."""

from __future__ import annotations

from typing import Any

from services.notifications.api import contacts, deliveries, webhook

ROUTES = [*contacts.ROUTES, *deliveries.ROUTES]
OPEN_ROUTES: list[Any] = [*webhook.ROUTES]
