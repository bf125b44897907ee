"""The pooling service: pools, allocation, allocation requests, capacity ledgers, lots and shipment."""

from __future__ import annotations

from events.pooling import CODEC
from services.pooling.api import ROUTES
from services.pooling.handlers import CATALOG_MIRROR, CHANNEL_ANSWERS, ORDERS_SAGA, QUALITY_MIRROR
from services.pooling.read.projections import POOLING_VIEWS
from services.pooling.read.tables import MIGRATIONS, PUBLISHED_STANDARDS
from services.pooling.workers import expiry_worker, reallocation_worker
from shared.service import Service

service = Service(
    name="pooling",
    codec=CODEC,
    routes=ROUTES,
    migrations=[*MIGRATIONS, PUBLISHED_STANDARDS.migration],
    projections=[POOLING_VIEWS],
    subscriptions=[
        CATALOG_MIRROR,
        ORDERS_SAGA,
        QUALITY_MIRROR,
        PUBLISHED_STANDARDS.subscription,
        CHANNEL_ANSWERS,
    ],
    workers=[expiry_worker, reallocation_worker],
)
