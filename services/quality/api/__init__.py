"""Quality's routes: standards, inspections, sampling plans and each MSME's quality."""

from __future__ import annotations

from services.quality.api import inspections, msme_quality, sampling_plans, standards

ROUTES = [*standards.ROUTES, *inspections.ROUTES, *sampling_plans.ROUTES, *msme_quality.ROUTES]
