"""The catalog service: MSMEs, their certifications (and expiry notices), products and monthly capacity, and
product search."""

from __future__ import annotations

from events.catalog import CODEC
from services.catalog.api import ROUTES
from services.catalog.expiry import certificate_expiry_worker
from services.catalog.handlers import COMMITTED_CAPACITY
from services.catalog.read.plots import PLOTS
from services.catalog.read.projections import CATALOG
from services.catalog.read.tables import MIGRATIONS, PUBLISHED_STANDARDS
from shared.service import Service

service = Service(
    name="catalog",
    codec=CODEC,
    routes=ROUTES,
    migrations=MIGRATIONS,
    projections=[CATALOG, PLOTS],
    subscriptions=[COMMITTED_CAPACITY, PUBLISHED_STANDARDS.subscription],
    workers=[certificate_expiry_worker],
)
