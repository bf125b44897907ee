"""The pooling service: pools, allocation, allocation requests, capacity ledgers, lots and shipment."""

from __future__ import annotations

from events.pooling import CODEC
from services.pooling import api_pools, api_proposals, api_requests
from services.pooling.handlers import CATALOG_MIRROR, ORDERS_SAGA, QUALITY_MIRROR
from services.pooling.projections import POOLING_VIEWS
from services.pooling.tables import PUBLISHED_STANDARDS, metadata
from services.pooling.workers import expiry_worker, reallocation_worker
from shared.migrations import Migration, tables_ddl
from shared.service import Service

service = Service(
    name="pooling",
    codec=CODEC,
    routes=[*api_pools.ROUTES, *api_proposals.ROUTES, *api_requests.ROUTES],
    migrations=[Migration("0001_read_models", lambda schema: tables_ddl(metadata)), PUBLISHED_STANDARDS.migration],
    projections=[POOLING_VIEWS],
    subscriptions=[CATALOG_MIRROR, ORDERS_SAGA, QUALITY_MIRROR, PUBLISHED_STANDARDS.subscription],
    workers=[expiry_worker, reallocation_worker],
)
