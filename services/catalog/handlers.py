"""Pooling's capacity ledger events keep the catalog's committed units per product and month."""

from __future__ import annotations

from events.pooling import CODEC as POOLING_CODEC
from events.pooling import CapacityCommitted, CapacityReleased
from services.catalog.read.projections import keep_committed
from shared.inbox import Delivery, Subscription
from shared.mirrors import Upserts, mirror_handlers


def committed(rows: Upserts, delivery: Delivery) -> None:
    """The committed total of the product's month that pooling's ledger event carries (a batch's in one
    statement a table)."""
    event = delivery.event
    if isinstance(event, CapacityCommitted | CapacityReleased):
        keep_committed(rows, event.product_id, event.month, event.committed)


COMMITTED_CAPACITY = Subscription("committed-capacity", "pooling", POOLING_CODEC, *mirror_handlers(committed))
