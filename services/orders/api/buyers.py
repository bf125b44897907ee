"""Routes of buyer organisations: a buyer registers its own organisation (an admin may register any)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
import sqlalchemy as sa
from litestar import Request, Response, get, post
from litestar.params import JSONBody, PathParameter

from events.orders import Contact
from services.orders.api.bodies import BuyerIn
from services.orders.domain.buyer import BUYER, Buyer, RegisterBuyer, buyer_stream
from services.orders.read.projections import buyers
from services.orders.read.views import BuyerView, buyer_view
from shared.api import Caller, Context, WaitFor, command_metadata, idempotent, wait_for_position
from shared.auth import Role
from shared.decider import run_command
from shared.errors import Forbidden, InvalidInput, NotFound
from shared.eventstore import Connection
from shared.problems import problem_responses
from shared.sql import fetchrow

_contacts = msgspec.json.Decoder(list[Contact])
_users = msgspec.json.Decoder(list[str])


@post("/buyers", responses=problem_responses(400, 401, 403, 409, 415, 422))
async def register_buyer(
    data: JSONBody[BuyerIn], request: Request[Any, Any, Any], principal: Caller, ctx: Context
) -> Response[Any]:
    """Register a buyer organisation: the caller's own, or any when an admin names ``org``."""
    principal.require(Role.BUYER)
    org = data.org or principal.org
    if org != principal.org and not principal.is_admin:
        raise Forbidden("a buyer can only register its own organisation")
    if not data.contacts:
        raise InvalidInput.of("contacts", "name at least one contact")
    command = RegisterBuyer(
        org=org,
        name=data.name,
        country=data.country,
        contacts=tuple(c.contact() for c in data.contacts),
        registered_by=principal.sub,
        at=ctx.clock.now(),
    )

    async def work(connection: Connection | None) -> tuple[int, Any]:
        outcome = await run_command(
            ctx.store,
            lambda unit: unit.execute(BUYER, buyer_stream(org), command),
            metadata=command_metadata(request, principal),
            connection=connection,
        )
        buyer: Buyer = outcome.value[0]
        return 201, buyer_view(buyer, outcome.versions[buyer_stream(org)], outcome.position)

    stored = await idempotent(ctx, request, principal, work)
    return Response(content=stored.body, status_code=stored.status, media_type="application/json")


@get("/buyers/{org:str}", responses=problem_responses(401, 404, 422))
async def get_buyer(
    org: Annotated[str, PathParameter(max_length=100)],
    principal: Caller,
    ctx: Context,
    wait_for: WaitFor = None,
) -> BuyerView:
    """A buyer organisation, to its own members and admins."""
    await wait_for_position(ctx, wait_for)
    row = await fetchrow(ctx.pool, sa.select(buyers).where(buyers.c.org == org))
    if row is None or (row["org"] != principal.org and not principal.is_admin):
        raise NotFound(f"no buyer organisation {org}")
    return BuyerView(
        id=row["org"],
        name=row["name"],
        country=row["country"],
        contacts=_contacts.decode(row["contacts"]),
        users=_users.decode(row["users"]),
        version=row["version"],
    )


BUYER_ROUTES = [register_buyer, get_buyer]
