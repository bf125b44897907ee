"""Accounts' projection: the list of organisations."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert

from events.accounts import OrganisationRegistered
from events.base import Event
from services.accounts.read.tables import organisations
from shared.eventstore import Connection, RecordedEvent
from shared.projection import Projection, Tables
from shared.sql import execute


async def project(connection: Connection, tables: Tables, event: Event, record: RecordedEvent) -> None:
    if isinstance(event, OrganisationRegistered):
        row = {"org": event.org, "kind": event.kind, "name": event.name, "registered_at": event.at}
        await execute(connection, insert(tables["organisations"]).values(**row).on_conflict_do_nothing())


PROJECTION = Projection("accounts", [organisations], project)
