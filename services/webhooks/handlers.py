"""Webhooks' subscriptions: every event of orders and pooling is turned into messages for the subscriptions
of the organisations it concerns, and webhooks' own pings and disabling notices into theirs.

Each runs in the inbox transaction that handles the event, so a message is queued exactly once however often
the bus delivers the event. Only subscriptions stored before the event (by the database's clock) get it: a
subscription made today is not sent last year's events when a consumer catches up.
"""

from __future__ import annotations

from uuid import UUID

from events.base import Event, event_tag
from events.orders import CODEC as ORDERS
from events.pooling import CODEC as POOLING
from events.webhooks import CODEC as WEBHOOKS
from events.webhooks import PING, WebhookDisabled, WebhookPinged
from services.webhooks import outbox
from services.webhooks.domain.routing import Known, Owner, lookups, owners_told, recipients
from shared.eventstore import Connection
from shared.inbox import Delivery, HandlerContext, Subscription

SCHEMA = outbox.SCHEMA
DISABLED_NOTICE = "webhook.disabled"


async def remember(connection: Connection, owners: list[Owner]) -> None:
    for owner in owners:
        await connection.execute(
            f"INSERT INTO {SCHEMA}.owners (kind, id, org) VALUES ($1, $2, $3) "
            "ON CONFLICT (kind, id) DO UPDATE SET org = EXCLUDED.org",
            owner.kind,
            owner.id,
            owner.org,
        )


async def known_owners(connection: Connection, pools: set[UUID], requests: set[UUID], orders: set[UUID]) -> Known:
    if not (pools or requests or orders):
        return Known()
    rows = await connection.fetch(
        f"SELECT kind, id, org FROM {SCHEMA}.owners WHERE (kind = 'pool' AND id = ANY($1::uuid[])) "
        "OR (kind = 'request' AND id = ANY($2::uuid[])) OR (kind = 'order' AND id = ANY($3::uuid[]))",
        list(pools),
        list(requests),
        list(orders),
    )
    found: dict[str, dict[UUID, str]] = {"pool": {}, "request": {}, "order": {}}
    for row in rows:
        found[row["kind"]][row["id"]] = row["org"]
    return Known(pools=found["pool"], requests=found["request"], buyers=found["order"])


async def _subscribers(
    connection: Connection, org: str, audience: str, event_type: str, delivery: Delivery
) -> list[UUID]:
    rows = await connection.fetch(
        f"SELECT id FROM {SCHEMA}.subscriptions WHERE org = $1 AND audience = $2 AND enabled "
        "AND $3 = ANY(event_types) AND since <= $4 ORDER BY id",
        org,
        audience,
        event_type,
        delivery.recorded_at,
    )
    return [row["id"] for row in rows]


async def _queue(
    connection: Connection, subscription_id: UUID, org: str, event_type: str, data: Event, delivery: Delivery
) -> None:
    await outbox.queue(
        connection,
        subscription_id=subscription_id,
        org=org,
        ordering_key=f"{delivery.source}:{delivery.stream_id}",
        event_id=delivery.event_id,
        event_type=event_type,
        event=event_tag(type(data)),
        body=outbox.encode(event_type, delivery.recorded_at, data),
        at=delivery.recorded_at,
    )


async def fan_out(hctx: HandlerContext, delivery: Delivery) -> None:
    """Queue ``delivery``'s event for every subscription of every organisation it concerns."""
    event = delivery.event
    await remember(hctx.connection, owners_told(event))
    known = await known_owners(hctx.connection, *lookups(event))
    for recipient in recipients(event, known):
        for subscription_id in await _subscribers(
            hctx.connection, recipient.org, recipient.audience, recipient.event_type, delivery
        ):
            await _queue(
                hctx.connection, subscription_id, recipient.org, recipient.event_type, recipient.data, delivery
            )


async def tell_own(hctx: HandlerContext, delivery: Delivery) -> None:
    """A ping goes to its subscription; a disabling notice to the organisation's other subscriptions that ask
    for it."""
    event, connection = delivery.event, hctx.connection
    match event:
        case WebhookPinged():
            enabled = await connection.fetchval(
                f"SELECT enabled FROM {SCHEMA}.subscriptions WHERE id = $1", event.subscription_id
            )
            if enabled:
                await _queue(connection, event.subscription_id, event.org, PING, event, delivery)
        case WebhookDisabled():
            rows = await connection.fetch(
                f"SELECT id, audience FROM {SCHEMA}.subscriptions WHERE org = $1 AND id <> $2 AND enabled "
                "AND $3 = ANY(event_types) AND since <= $4 ORDER BY id",
                event.org,
                event.subscription_id,
                DISABLED_NOTICE,
                delivery.recorded_at,
            )
            for row in rows:
                await _queue(connection, row["id"], event.org, DISABLED_NOTICE, event, delivery)


ORDERS_EVENTS = Subscription("orders-events", source="orders", codec=ORDERS, handle=fan_out)
POOLING_EVENTS = Subscription("pooling-events", source="pooling", codec=POOLING, handle=fan_out)
OWN_EVENTS = Subscription("own-events", source="webhooks", codec=WEBHOOKS, handle=tell_own)
