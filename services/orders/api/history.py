"""The route of an order's history: what happened to it, in words, with what other services did for it."""

from __future__ import annotations

from uuid import UUID

from litestar import get
from litestar.params import FromPath

from services.orders.read.history_queries import order_history as history_of
from services.orders.read.queries import visible_events
from services.orders.read.views import OrderHistory
from shared.api import Caller, Context
from shared.auth import Role
from shared.guards import Scope, allow


@get("/orders/{order_id:uuid}/history", guards=[allow(Role.BUYER, Role.AGGREGATOR, scope=Scope.ORDERS_READ)])
async def order_history(order_id: FromPath[UUID], principal: Caller, ctx: Context) -> OrderHistory:
    """What happened to the order, when and by whom, oldest first, with what other services did for it:
    pooling's events naming its lines and quality's verdicts on the lots delivered for them."""
    return await history_of(ctx.pool, order_id, await visible_events(ctx, principal, order_id))


HISTORY_ROUTES = [order_history]
