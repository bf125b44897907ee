"""The pooling service: pools, allocation, allocation requests, capacity ledgers, lots and shipment."""

from __future__ import annotations

from events.pooling import CODEC
from services.pooling import api_pools, api_proposals, api_requests
from services.pooling.handlers import CATALOG_MIRROR, ORDERS_SAGA, QUALITY_MIRROR
from services.pooling.projections import POOLING_VIEWS
from services.pooling.tables import MIGRATIONS, PUBLISHED_STANDARDS
from services.pooling.workers import expiry_worker, reallocation_worker
from shared.service import Service

service = Service(
    name="pooling",
    codec=CODEC,
    routes=[*api_pools.ROUTES, *api_proposals.ROUTES, *api_requests.ROUTES],
    migrations=[*MIGRATIONS, PUBLISHED_STANDARDS.migration],
    projections=[POOLING_VIEWS],
    subscriptions=[CATALOG_MIRROR, ORDERS_SAGA, QUALITY_MIRROR, PUBLISHED_STANDARDS.subscription],
    workers=[expiry_worker, reallocation_worker],
)
