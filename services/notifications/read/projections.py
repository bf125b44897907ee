"""Notifications' projection of its own events: ``contacts``.

``answers`` is not projected: its row is written with ``AnswerGiven`` in the same transaction (so the phone
page reads its own answer at once) and settled by the subscription to pooling's ``AnswerSettled``, so a
rebuild of this projection never loses an outcome.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from events.base import Event, event_names
from events.notifications import (
    ContactAdded,
    ContactOptedIn,
    ContactOptedOut,
    ContactRemoved,
    ContactUpdated,
)
from services.notifications.read.tables import contacts
from shared.eventstore import Connection, RecordedEvent
from shared.projection import Projection, Tables
from shared.sql import execute


async def project(connection: Connection, tables: Tables, event: Event, record: RecordedEvent) -> None:
    table = tables["contacts"]
    version = record.stream_version
    match event:
        case ContactAdded():
            row = {
                "contact_id": event.contact_id,
                "msme_id": event.msme_id,
                "name": event.name,
                "role": event.role,
                "phone": event.phone,
                "language": event.language,
                "channel": event.channel,
                "email": event.email,
                "opted_in": False,
                "removed": False,
                "added_at": event.at,
                "version": version,
            }
            await execute(connection, insert(table).values(**row).on_conflict_do_nothing())
        case ContactUpdated():
            details = {k: getattr(event, k) for k in ("name", "role", "phone", "language", "channel", "email")}
            await _contact(connection, table, event.contact_id, version, **details)
        case ContactOptedIn():
            await _contact(connection, table, event.contact_id, version, opted_in=True, opted_in_at=event.at)
        case ContactOptedOut():
            await _contact(connection, table, event.contact_id, version, opted_in=False, opted_out_at=event.at)
        case ContactRemoved():
            await _contact(connection, table, event.contact_id, version, opted_in=False, removed=True)


async def _contact(connection: Connection, table: sa.Table, contact_id: object, version: int, **values: object) -> None:
    await execute(
        connection,
        table.update()
        .where(table.c.contact_id == contact_id, table.c.version < version)
        .values(version=version, **values),
    )


PROJECTION = Projection(
    "notifications",
    [contacts],
    project,
    takes=event_names(ContactAdded, ContactUpdated, ContactOptedIn, ContactOptedOut, ContactRemoved),
)
