"""The quality service: standards, sampling plans, inspections and each MSME's quality record."""

from __future__ import annotations

from events.quality import CODEC
from services.quality import api_inspections, api_quality, api_standards
from services.quality.handlers import MSME_OWNERS
from services.quality.projections import MIGRATIONS, PROJECTION
from shared.service import Service

service = Service(
    name="quality",
    codec=CODEC,
    routes=[*api_standards.ROUTES, *api_inspections.ROUTES, *api_quality.ROUTES],
    migrations=MIGRATIONS,
    projections=[PROJECTION],
    subscriptions=[MSME_OWNERS],
)
