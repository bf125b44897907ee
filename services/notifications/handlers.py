"""Notifications' subscriptions: what it keeps of catalog, pooling and quality, and the messages they trigger.

Each handler runs in the inbox's transaction: it updates the mirrors, then queues messages in the outbox
(``deliveries``) keyed by the event's id and the recipient, so a redelivered event queues nothing twice and
nothing here waits for a channel.
"""

from __future__ import annotations

from collections.abc import Sequence

from events.catalog import CODEC as CATALOG
from events.pooling import CODEC as POOLING
from events.quality import CODEC as QUALITY
from services.notifications import triggers
from services.notifications.read import mirrors
from shared.inbox import Delivery, HandlerContext, Subscription, batch_handlers
from shared.mirrors import Upserts


async def follow_catalog(hctx: HandlerContext, deliveries: Sequence[Delivery]) -> None:
    """The batch's rows in one statement a table; the rows before an event that triggers a message are written
    before it is told, as they would be one event at a time."""
    if any(map(triggers.on_catalog_triggers, deliveries)):
        await triggers.contacts_current(hctx)
    rows = Upserts()
    for delivery in deliveries:
        if triggers.on_catalog_triggers(delivery):
            await rows.write(hctx.connection)
            await triggers.on_catalog(hctx, delivery)
        mirrors.keep_catalog(rows, delivery.event)
    await rows.write(hctx.connection)


async def follow_pooling(hctx: HandlerContext, deliveries: Sequence[Delivery]) -> None:
    """The ledgers' capacity rows (most of pooling's events) in one statement; those gathered so far are written
    before any other event is taken, as they would be one event at a time."""
    if any(map(triggers.on_pooling_triggers, deliveries)):
        await triggers.contacts_current(hctx)
    rows = Upserts()
    for delivery in deliveries:
        if not mirrors.keep_capacity(rows, delivery.event):
            await rows.write(hctx.connection)
            await mirrors.keep_pooling(hctx.connection, delivery.event)
            await triggers.on_pooling(hctx, delivery)
    await rows.write(hctx.connection)


async def follow_quality(hctx: HandlerContext, delivery: Delivery) -> None:
    if triggers.on_quality_triggers(delivery):
        await triggers.contacts_current(hctx)
    await mirrors.keep_quality(hctx.connection, delivery.event)
    await triggers.on_quality(hctx, delivery)


CATALOG_MIRROR = Subscription("catalog", "catalog", CATALOG, *batch_handlers(follow_catalog))
POOLING_MIRROR = Subscription("pooling", "pooling", POOLING, *batch_handlers(follow_pooling))
QUALITY_MIRROR = Subscription("quality", source="quality", codec=QUALITY, handle=follow_quality)
