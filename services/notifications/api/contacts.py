"""Routes of contacts: add and list an MSME's contacts, read, change, remove, opt in and out."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import sqlalchemy as sa
from litestar import Request, Response, delete, get, patch, post
from litestar.params import FromPath, JSONBody

from services.notifications.api.bodies import ContactBody, ContactPatch, OptInBody
from services.notifications.domain.contacts import Contact, OptIn, OptOut, RemoveContact
from services.notifications.read.tables import contacts
from services.notifications.read.views import ContactView, contact_row_view, contact_view
from services.notifications.use_cases import contacts as use
from shared.api import Caller, Context, Cursor, Limit, WaitFor, command_metadata, if_match, wait_for_position
from shared.auth import Role
from shared.decider import CommandOutcome
from shared.guards import allow
from shared.kernel.ids import new_id
from shared.kernel.scopes import Scope
from shared.pages import BY_ID, Page
from shared.problems import problem_responses
from shared.sql import fetch

READERS = allow(Role.MSME, Role.AGGREGATOR, scope=Scope.CONTACTS_READ)
MANAGERS = allow(Role.MSME, Role.AGGREGATOR, scope=Scope.CONTACTS_WRITE)


@post("/msmes/{msme_id:uuid}/contacts", guards=[MANAGERS], responses=problem_responses(409))
async def add_contact(
    msme_id: FromPath[UUID],
    data: JSONBody[ContactBody],
    request: Request[Any, Any, Any],
    principal: Caller,
    ctx: Context,
) -> Response[ContactView]:
    """Add a person to message about the MSME's requests and lots (its owner, or the aggregator that onboarded it).

    WhatsApp requires consent: set ``opted_in`` with ``opt_in_evidence`` only when the person agreed."""
    command = data.command(new_id(), msme_id, by=f"{principal.role.value}:{principal.sub}", at=ctx.clock.now())
    outcome = await use.add(ctx.store, principal, command, metadata=command_metadata(request, principal))
    version = outcome.versions.get(f"contact-{command.contact_id}", 1)
    return Response(contact_view(outcome.value, version, outcome.position), status_code=201)


@get("/msmes/{msme_id:uuid}/contacts", guards=[READERS])
async def list_contacts(
    msme_id: FromPath[UUID],
    principal: Caller,
    ctx: Context,
    limit: Limit = 50,
    cursor: Cursor = None,
    wait_for: WaitFor = None,
) -> Page[ContactView]:
    """The MSME's contacts (removed ones left out), oldest first."""
    await wait_for_position(ctx, wait_for)
    await use.check_manager(None, ctx.store, principal, msme_id)
    after = BY_ID.decode(cursor)
    c = contacts.c
    statement = sa.select(contacts).where(c.msme_id == msme_id, sa.not_(c.removed))
    if after:
        statement = statement.where(c.contact_id > after[0])
    rows = await fetch(ctx.pool, statement.order_by(c.contact_id).limit(limit + 1))
    return BY_ID.page(rows, limit, contact_row_view, lambda v: (v.id,))


@get("/contacts/{contact_id:uuid}", guards=[READERS])
async def get_contact(contact_id: FromPath[UUID], principal: Caller, ctx: Context) -> ContactView:
    state, version = await use.read_contact(ctx.store, principal, contact_id)
    return contact_view(state, version)


@patch("/contacts/{contact_id:uuid}", guards=[MANAGERS], responses=problem_responses(412))
async def update_contact(
    contact_id: FromPath[UUID],
    data: JSONBody[ContactPatch],
    request: Request[Any, Any, Any],
    principal: Caller,
    ctx: Context,
) -> ContactView:
    """Change name, role, phone, language, channel or email; ``If-Match: <version>`` makes it conditional."""
    command = data.command(at=ctx.clock.now())
    metadata = command_metadata(request, principal)
    outcome = await use.change(ctx.store, principal, contact_id, command, metadata=metadata, expected=if_match(request))
    return _answer(outcome)


@delete("/contacts/{contact_id:uuid}", guards=[MANAGERS], status_code=200, responses=problem_responses(412))
async def remove_contact(
    contact_id: FromPath[UUID], request: Request[Any, Any, Any], principal: Caller, ctx: Context
) -> ContactView:
    """Remove the contact: nothing more is sent to it."""
    command = RemoveContact(by=f"{principal.role.value}:{principal.sub}", at=ctx.clock.now())
    metadata = command_metadata(request, principal)
    outcome = await use.change(ctx.store, principal, contact_id, command, metadata=metadata, expected=if_match(request))
    return _answer(outcome)


@post("/contacts/{contact_id:uuid}/opt-in", guards=[MANAGERS], status_code=200)
async def opt_in(
    contact_id: FromPath[UUID],
    data: JSONBody[OptInBody],
    request: Request[Any, Any, Any],
    principal: Caller,
    ctx: Context,
) -> ContactView:
    """Record the contact's consent to be messaged (WhatsApp requires it) and how it was given."""
    command = OptIn(via="api", evidence=data.evidence, at=ctx.clock.now())
    outcome = await use.change(ctx.store, principal, contact_id, command, metadata=command_metadata(request, principal))
    return _answer(outcome)


@post("/contacts/{contact_id:uuid}/opt-out", guards=[MANAGERS], status_code=200)
async def opt_out(
    contact_id: FromPath[UUID], request: Request[Any, Any, Any], principal: Caller, ctx: Context
) -> ContactView:
    """Stop messaging the contact, at once."""
    command = OptOut(via="api", at=ctx.clock.now())
    outcome = await use.change(ctx.store, principal, contact_id, command, metadata=command_metadata(request, principal))
    return _answer(outcome)


def _answer(outcome: CommandOutcome[tuple[Contact, int]]) -> ContactView:
    state, version = outcome.value
    return contact_view(state, version, outcome.position)


ROUTES = [add_contact, list_contacts, get_contact, update_contact, remove_contact, opt_in, opt_out]
