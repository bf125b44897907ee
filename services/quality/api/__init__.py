"""Quality's routes: standards, inspections, sampling plans and each MSME's quality."""

from __future__ import annotations

from services.quality.api import inspections, quality, standards

ROUTES = [*standards.ROUTES, *inspections.ROUTES, *quality.ROUTES]
