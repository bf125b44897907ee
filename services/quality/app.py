"""The quality service: standards, sampling plans, inspections and each MSME's quality record."""

from __future__ import annotations

from events.quality import CODEC
from services.quality.api import ROUTES
from services.quality.handlers import MSME_OWNERS
from services.quality.read.projections import PROJECTION
from services.quality.read.tables import MIGRATIONS
from shared.service import Service

service = Service(
    name="quality",
    codec=CODEC,
    routes=ROUTES,
    migrations=MIGRATIONS,
    projections=[PROJECTION],
    subscriptions=[MSME_OWNERS],
)
