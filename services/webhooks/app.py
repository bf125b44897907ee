"""The webhooks service: organisations' subscriptions to events, signed messages sent to them, the log."""

from __future__ import annotations

from events.webhooks import CODEC
from services.webhooks.api import ROUTES
from services.webhooks.handlers import ORDERS_EVENTS, OWN_EVENTS, POOLING_EVENTS
from services.webhooks.read.projections import PROJECTION
from services.webhooks.read.tables import MIGRATIONS
from services.webhooks.workers import dispatcher
from shared.service import Service

service = Service(
    name="webhooks",
    codec=CODEC,
    routes=ROUTES,
    migrations=MIGRATIONS,
    projections=[PROJECTION],
    subscriptions=[ORDERS_EVENTS, POOLING_EVENTS, OWN_EVENTS],
    workers=[dispatcher],
)
