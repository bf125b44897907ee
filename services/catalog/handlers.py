"""Pooling's capacity ledger events keep the catalog's committed units per product and month."""

from __future__ import annotations

from events.pooling import CODEC as POOLING_CODEC
from events.pooling import CapacityCommitted, CapacityReleased
from services.catalog.read.projections import record_committed
from shared.inbox import Delivery, HandlerContext, Subscription


async def keep_committed(hctx: HandlerContext, delivery: Delivery) -> None:
    """Record the committed total of the product's month that pooling's ledger event carries."""
    event = delivery.event
    if isinstance(event, CapacityCommitted | CapacityReleased):
        await record_committed(hctx.connection, event.product_id, event.month, event.committed)


COMMITTED_CAPACITY = Subscription("committed-capacity", source="pooling", codec=POOLING_CODEC, handle=keep_committed)
