"""Pooling's capacity ledger events keep the catalog's committed units per product and month."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert

from events.pooling import CODEC as POOLING_CODEC
from events.pooling import CapacityCommitted, CapacityReleased
from services.catalog.read.tables import capacity, commitments
from shared.consumer import Delivery, HandlerContext, Subscription
from shared.sql import execute


async def keep_committed(hctx: HandlerContext, delivery: Delivery) -> None:
    """Record the month's committed total the event carries (totals, not deltas, so order within a month's
    ledger stream is all that matters, and the consumer guarantees it)."""
    event = delivery.event
    if not isinstance(event, CapacityCommitted | CapacityReleased):
        return
    key = {"product_id": event.product_id, "month": event.month}
    booked = insert(commitments).values(**key, committed=event.committed)
    await execute(
        hctx.connection,
        booked.on_conflict_do_update(index_elements=list(key), set_={"committed": event.committed}),
    )
    months = insert(capacity).values(**key, declared=0, committed=event.committed)
    await execute(
        hctx.connection,
        months.on_conflict_do_update(index_elements=list(key), set_={"committed": event.committed}),
    )


COMMITTED_CAPACITY = Subscription("committed-capacity", source="pooling", codec=POOLING_CODEC, handle=keep_committed)
