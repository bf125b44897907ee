"""Pooling's HTTP routes, one module per resource."""

from __future__ import annotations

from services.pooling.api import allocation_requests, exporters, exports, pools, proposals

ROUTES = [*pools.ROUTES, *proposals.ROUTES, *allocation_requests.ROUTES, *exports.ROUTES, *exporters.ROUTES]
