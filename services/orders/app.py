"""The orders service: buyer organisations and their bulk orders, quotes, lifecycle and live progress."""

from __future__ import annotations

from events.orders import CODEC
from services.orders.api_buyers import BUYER_ROUTES
from services.orders.api_feed import FEED_ROUTES
from services.orders.api_orders import ORDER_ROUTES
from services.orders.api_provenance import PROVENANCE_ROUTES
from services.orders.expiry import quote_expiry_worker
from services.orders.feed import listen_for_changes
from services.orders.flow_tables import (
    FLOW_MIGRATION,
    LOT_DECIDED_BY,
    PUBLISHED_STANDARDS,
    TIMELINE_TOLD_WHEN_READ,
)
from services.orders.handlers import CATALOG_MIRROR, POOLING_SAGA, QUALITY_VERDICTS
from services.orders.projections import LINE_COVERAGE_TIMES, MIGRATIONS, ORDERS_PROJECTION
from shared.service import Service

service = Service(
    name="orders",
    codec=CODEC,
    routes=[*BUYER_ROUTES, *ORDER_ROUTES, *FEED_ROUTES, *PROVENANCE_ROUTES],
    migrations=[
        *MIGRATIONS,
        FLOW_MIGRATION,
        LOT_DECIDED_BY,
        TIMELINE_TOLD_WHEN_READ,
        LINE_COVERAGE_TIMES,
        PUBLISHED_STANDARDS.migration,
    ],
    projections=[ORDERS_PROJECTION],
    subscriptions=[CATALOG_MIRROR, POOLING_SAGA, QUALITY_VERDICTS, PUBLISHED_STANDARDS.subscription],
    workers=[quote_expiry_worker, listen_for_changes],
)
