"""Webhooks' projection: the subscriptions as their streams stand."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert

from events.base import Event
from events.webhooks import (
    SecretRotated,
    SubscriptionChanged,
    SubscriptionCreated,
    SubscriptionDeleted,
    WebhookDisabled,
    WebhookPinged,
)
from services.webhooks.read.tables import subscriptions
from shared.eventstore import Connection, RecordedEvent
from shared.projection import Projection, Tables
from shared.sql import execute


async def project(connection: Connection, tables: Tables, event: Event, record: RecordedEvent) -> None:
    table = tables["subscriptions"]
    this = table.c.id == getattr(event, "subscription_id", None)
    version = {"version": record.stream_version}
    match event:
        case SubscriptionCreated():
            row = {
                "id": event.subscription_id,
                "org": event.org,
                "audience": event.audience,
                "url": event.url,
                "event_types": list(event.event_types),
                "description": event.description,
                "enabled": event.enabled,
                "secret_version": 1,
                "created_by": event.created_by,
                "created_at": event.at,
                "since": record.recorded_at,
                "updated_at": event.at,
                **version,
            }
            await execute(connection, insert(table).values(**row).on_conflict_do_nothing())
        case SubscriptionChanged():
            changed = {
                "url": event.url,
                "event_types": list(event.event_types),
                "description": event.description,
                "enabled": event.enabled,
                "updated_at": event.at,
                **version,
            }
            if event.enabled:
                changed |= {"disabled_reason": None, "disabled_at": None}
            await execute(connection, table.update().where(this).values(**changed))
        case SubscriptionDeleted():
            await execute(connection, table.delete().where(this))
        case SecretRotated():
            rotated = {
                "secret_version": event.secret_version,
                "secret_rotated_at": event.at,
                "previous_secret_valid_until": event.previous_valid_until,
            }
            await execute(connection, table.update().where(this).values(**rotated, **version))
        case WebhookDisabled():
            disabled = {"enabled": False, "disabled_reason": event.reason, "disabled_at": event.at}
            await execute(connection, table.update().where(this).values(**disabled, **version))
        case WebhookPinged():
            await execute(connection, table.update().where(this).values(**version))


PROJECTION = Projection("webhooks", [subscriptions], project)
