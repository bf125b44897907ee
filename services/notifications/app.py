"""The notifications service: MSME contacts and consent, the delivery outbox and log, the WhatsApp channel."""

from __future__ import annotations

from events.notifications import CODEC
from services.notifications.api import OPEN_ROUTES, ROUTES
from services.notifications.handlers import CATALOG_MIRROR, POOLING_MIRROR, QUALITY_MIRROR
from services.notifications.inbound import inbound_worker
from services.notifications.phone import MIGRATION as PHONE_MIGRATION
from services.notifications.phone import PAGES, TEMPLATES
from services.notifications.read.projections import PROJECTION
from services.notifications.read.tables import MIGRATIONS
from services.notifications.reminders import reminder_worker
from services.notifications.sender import sender_worker
from shared.service import Service

service = Service(
    name="notifications",
    codec=CODEC,
    routes=ROUTES,
    open_routes=[*OPEN_ROUTES, PAGES],
    migrations=[*MIGRATIONS, PHONE_MIGRATION],
    projections=[PROJECTION],
    subscriptions=[CATALOG_MIRROR, POOLING_MIRROR, QUALITY_MIRROR],
    workers=[sender_worker, inbound_worker, reminder_worker],
    templates=[TEMPLATES],
)
