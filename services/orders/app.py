"""The orders service: buyer organisations and their bulk orders, quotes, lifecycle and live progress."""

from __future__ import annotations

from events.orders import CODEC
from services.orders.api_buyers import BUYER_ROUTES
from services.orders.api_feed import FEED_ROUTES
from services.orders.api_orders import ORDER_ROUTES
from services.orders.expiry import quote_expiry_worker
from services.orders.feed import listen_for_changes
from services.orders.projections import MIGRATIONS, ORDERS_PROJECTION
from shared.service import Service

service = Service(
    name="orders",
    codec=CODEC,
    routes=[*BUYER_ROUTES, *ORDER_ROUTES, *FEED_ROUTES],
    migrations=MIGRATIONS,
    projections=[ORDERS_PROJECTION],
    workers=[quote_expiry_worker, listen_for_changes],
)
