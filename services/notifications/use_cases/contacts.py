"""Contacts of an MSME: who may manage them, and one function per use case (load, decide, append).

An MSME's contacts are managed by users of its owning organisation (roles ``msme`` and ``aggregator``), by the
aggregator organisation that registered it (``registered_by``) and by admins; anyone else gets a 404, as if
the MSME were unknown. What notifications knows of MSMEs comes from catalog's events (``msmes``).
"""

from __future__ import annotations

from uuid import UUID

import sqlalchemy as sa

from services.notifications.domain.contacts import (
    CONTACT,
    AddContact,
    Contact,
    ContactCommand,
    UpdateContact,
    contact_stream,
)
from services.notifications.read.tables import msmes
from shared.api import check_version
from shared.auth import Principal, Role
from shared.decider import CommandOutcome, UnitOfWork, fold_stream, run_command
from shared.eventstore import Connection, EventStore, Metadata
from shared.kernel.errors import Conflict, NotFound
from shared.sql import fetchrow

MANAGERS = (Role.MSME, Role.AGGREGATOR)


def contacts_of(msme_id: UUID) -> str:
    """The lock every change of an MSME's contacts' phones takes, so no phone is added twice."""
    return f"contacts-of-{msme_id}"


def may_manage(principal: Principal, org: str, registered_by: str | None) -> bool:
    if principal.is_admin:
        return True
    if principal.role in MANAGERS and principal.org == org:
        return True
    return principal.role is Role.AGGREGATOR and principal.org == registered_by


async def check_manager(connection: Connection | None, store: EventStore, principal: Principal, msme_id: UUID) -> None:
    """404 unless the MSME is known here and ``principal`` may manage its contacts."""
    statement = sa.select(msmes.c.org, msmes.c.registered_by).where(msmes.c.msme_id == msme_id)
    row = await fetchrow(connection or store.pool, statement)
    if row is None or not may_manage(principal, row["org"], row["registered_by"]):
        raise NotFound(f"no MSME {msme_id}")


async def add(
    store: EventStore, principal: Principal, command: AddContact, *, metadata: Metadata
) -> CommandOutcome[Contact]:
    await check_manager(None, store, principal, command.msme_id)

    async def work(unit: UnitOfWork) -> Contact:
        taken = (await phones_in_use(unit, command.msme_id)).get(command.details.phone)
        if taken is not None:
            raise Conflict(
                f"{command.details.phone} is already contact {taken} of this MSME", problem="duplicate-contact"
            )
        state, _ = await unit.execute(CONTACT, contact_stream(command.contact_id), command)
        return state

    return await run_command(store, work, metadata=metadata, lock_streams=[f"contacts-of-{command.msme_id}"])


async def phones_in_use(unit: UnitOfWork, msme_id: UUID) -> dict[str, UUID]:
    """The phones of the MSME's contacts (not removed), from their streams: exact under the MSME's lock, where
    the ``contacts`` read model may lag a moment behind."""
    streams = await unit.connection.fetch(
        "SELECT stream_id FROM notifications.events WHERE event_type = 'ContactAdded' AND data->>'msme_id' = $1",
        str(msme_id),
    )
    phones: dict[str, UUID] = {}
    for row in streams:
        contact = await unit.load(CONTACT, row["stream_id"])
        if contact.exists and contact.contact_id is not None:
            phones[contact.phone] = contact.contact_id
    return phones


async def change(
    store: EventStore,
    principal: Principal | None,
    contact_id: UUID,
    command: ContactCommand,
    *,
    metadata: Metadata,
    expected: int | None = None,
    connection: Connection | None = None,
) -> CommandOutcome[tuple[Contact, int]]:
    """Update, opt in or out, or remove a contact; ``principal`` None is the contact itself (a WhatsApp STOP).

    The outcome's value is the contact after the command and its version."""

    async def work(unit: UnitOfWork) -> tuple[Contact, int]:
        stream = contact_stream(contact_id)
        state = await unit.load(CONTACT, stream)
        if not state.exists or state.msme_id is None:
            raise NotFound(f"no contact {contact_id}")
        if principal is not None:
            await check_manager(unit.connection, store, principal, state.msme_id)
        version = await unit.version(stream)
        check_version(expected, version)
        if isinstance(command, UpdateContact) and command.changes.phone not in (None, state.phone):
            await store.lock_streams([contacts_of(state.msme_id)], connection=unit.connection)
            taken = (await phones_in_use(unit, state.msme_id)).get(command.changes.phone or "")
            if taken is not None and taken != contact_id:
                raise Conflict(
                    f"{command.changes.phone} is already contact {taken} of this MSME", problem="duplicate-contact"
                )
        after, events = await unit.execute(CONTACT, stream, command)
        return after, version + len(events)

    return await run_command(store, work, metadata=metadata, connection=connection)


async def read_contact(store: EventStore, principal: Principal, contact_id: UUID) -> tuple[Contact, int]:
    state, version = await fold_stream(store, CONTACT, contact_stream(contact_id))
    if not state.exists or state.msme_id is None:
        raise NotFound(f"no contact {contact_id}")
    await check_manager(None, store, principal, state.msme_id)
    return state, version
