"""Routes of buyer organisations: a buyer registers its own organisation (an admin may register any)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.params import JSONBody, PathParameter

from services.orders import commands
from services.orders.api.bodies import BuyerIn
from services.orders.domain.buyer import RegisterBuyer
from services.orders.read.queries import find_buyer
from services.orders.read.views import BuyerView
from shared.api import Caller, Context, WaitFor, command_metadata, idempotent, stored_answer, wait_for_position
from shared.auth import Role
from shared.eventstore import Connection
from shared.guards import Scope, allow
from shared.problems import problem_responses


@post("/buyers", guards=[allow(Role.BUYER, scope=Scope.ORDERS_WRITE)], responses=problem_responses(409))
async def register_buyer(
    data: JSONBody[BuyerIn], request: Request[Any, Any, Any], principal: Caller, ctx: Context
) -> Response[BuyerView]:
    """Register a buyer organisation: the caller's own, or any when an admin names ``org``."""
    command = RegisterBuyer(
        org=data.org or principal.org,
        name=data.name,
        country=data.country,
        contacts=tuple(c.contact() for c in data.contacts),
        registered_by=principal.sub,
        at=ctx.clock.now(),
    )

    async def work(connection: Connection | None) -> tuple[int, Any]:
        metadata = command_metadata(request, principal)
        return 201, await commands.register_buyer(ctx, principal, command, metadata, connection)

    return stored_answer(await idempotent(ctx, request, principal, work), BuyerView)


@get("/buyers/{org:str}", guards=[allow(scope=Scope.ORDERS_READ)])
async def get_buyer(
    org: Annotated[str, PathParameter(max_length=100)],
    principal: Caller,
    ctx: Context,
    wait_for: WaitFor = None,
) -> BuyerView:
    """A buyer organisation, to its own members and admins."""
    await wait_for_position(ctx, wait_for)
    return await find_buyer(ctx.pool, principal, org)


BUYER_ROUTES = [register_buyer, get_buyer]
