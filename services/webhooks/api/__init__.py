"""Webhooks' routes: subscriptions and their delivery logs."""

from __future__ import annotations

from services.webhooks.api import deliveries, subscriptions

ROUTES = [*subscriptions.ROUTES, *deliveries.ROUTES]
