"""Notifications' subscriptions: what it keeps of catalog, pooling and quality, and the messages they trigger.

Each handler runs in the inbox's transaction: it updates the mirrors, then queues messages in the outbox
(``deliveries``) keyed by the event's id and the recipient, so a redelivered event queues nothing twice and
nothing here waits for a channel.
"""

from __future__ import annotations

from events.catalog import CODEC as CATALOG
from events.pooling import CODEC as POOLING
from events.quality import CODEC as QUALITY
from services.notifications import triggers
from services.notifications.read import mirrors
from shared.inbox import Delivery, HandlerContext, Subscription


async def follow_catalog(hctx: HandlerContext, delivery: Delivery) -> None:
    await mirrors.keep_catalog(hctx.connection, delivery.event)
    await triggers.on_catalog(hctx, delivery)


async def follow_pooling(hctx: HandlerContext, delivery: Delivery) -> None:
    await mirrors.keep_pooling(hctx.connection, delivery.event)
    await triggers.on_pooling(hctx, delivery)


async def follow_quality(hctx: HandlerContext, delivery: Delivery) -> None:
    await mirrors.keep_quality(hctx.connection, delivery.event)
    await triggers.on_quality(hctx, delivery)


CATALOG_MIRROR = Subscription("catalog", source="catalog", codec=CATALOG, handle=follow_catalog)
POOLING_MIRROR = Subscription("pooling", source="pooling", codec=POOLING, handle=follow_pooling)
QUALITY_MIRROR = Subscription("quality", source="quality", codec=QUALITY, handle=follow_quality)
