"""The orders service: buyer organisations and their bulk orders, quotes, lifecycle and live progress."""

from __future__ import annotations

from events.orders import CODEC
from services.orders.api import ROUTES
from services.orders.api.feed import listen_for_changes
from services.orders.expiry import quote_expiry_worker
from services.orders.handlers import CATALOG_MIRROR, POOLING_SAGA, QUALITY_VERDICTS
from services.orders.read.projections import ORDERS_PROJECTION
from services.orders.read.tables import (
    FLOW_MIGRATION,
    LINE_COVERAGE_TIMES,
    LOT_DECIDED_BY,
    MIGRATIONS,
    MSME_VERSIONS,
    PUBLISHED_STANDARDS,
    TIMELINE_TOLD_WHEN_READ,
)
from shared.service import Service

service = Service(
    name="orders",
    codec=CODEC,
    routes=ROUTES,
    migrations=[
        *MIGRATIONS,
        FLOW_MIGRATION,
        LOT_DECIDED_BY,
        TIMELINE_TOLD_WHEN_READ,
        LINE_COVERAGE_TIMES,
        PUBLISHED_STANDARDS.migration,
        MSME_VERSIONS,
    ],
    projections=[ORDERS_PROJECTION],
    subscriptions=[CATALOG_MIRROR, POOLING_SAGA, QUALITY_VERDICTS, PUBLISHED_STANDARDS.subscription],
    workers=[quote_expiry_worker, listen_for_changes],
)
