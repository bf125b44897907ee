"""Orders' HTTP routes, one module per resource; ``ROUTES`` is what the service serves."""

from __future__ import annotations

from services.orders.api.buyers import BUYER_ROUTES
from services.orders.api.feed import FEED_ROUTES
from services.orders.api.history import HISTORY_ROUTES
from services.orders.api.orders import ORDER_ROUTES
from services.orders.api.provenance import PROVENANCE_ROUTES

ROUTES = [*BUYER_ROUTES, *ORDER_ROUTES, *HISTORY_ROUTES, *FEED_ROUTES, *PROVENANCE_ROUTES]
