"""Routes of bulk orders: request, list, read, quote, confirm, cancel, confirm delivery."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

import msgspec
import sqlalchemy as sa
from litestar import Request, Response, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from events.orders import OrderState
from services.orders.api.bodies import CancelIn, OrderIn, QuoteIn
from services.orders.domain.access import can_see, can_see_order
from services.orders.domain.buyer import BUYER, buyer_stream
from services.orders.domain.order import (
    ORDER,
    CancelOrder,
    ConfirmOrder,
    MarkDelivered,
    Order,
    OrderCommand,
    QuoteOrder,
    RequestOrder,
    order_stream,
)
from services.orders.expiry import QUOTE_EXPIRY
from services.orders.read.progress import progress_of
from services.orders.read.projections import decode_order, orders
from services.orders.read.tables import PUBLISHED_STANDARDS
from services.orders.read.views import OrderSummary, OrderView, order_view
from shared.api import (
    Caller,
    Context,
    Cursor,
    Limit,
    WaitFor,
    check_version,
    command_metadata,
    idempotent,
    if_match,
    wait_for_position,
)
from shared.auth import Principal, Role
from shared.bounds import MAX_INTEGER
from shared.decider import UnitOfWork, run_command
from shared.errors import Conflict, InvalidInput, NotFound
from shared.eventstore import Connection, Metadata
from shared.ids import new_id
from shared.pages import BY_ID, Page
from shared.problems import problem_responses
from shared.published_standards import StandardUse
from shared.schedule import schedule
from shared.service import ServiceContext
from shared.sql import fetch, fetchrow

AnyRequest = Request[Any, Any, Any]


def actor(principal: Principal) -> str:
    return f"{principal.role.value}:{principal.sub}"


def order_metadata(request: AnyRequest, principal: Principal, order_id: UUID) -> Metadata:
    """Every command on an order is correlated by the order's id, so its consequences elsewhere can be found."""
    return msgspec.structs.replace(command_metadata(request, principal), correlation_id=str(order_id))


async def _load_visible(unit: UnitOfWork, principal: Principal, order_id: UUID) -> Order:
    order = await unit.load(ORDER, order_stream(order_id))
    if not can_see_order(principal, order):
        raise NotFound(f"no order {order_id}")
    return order


async def _view(ctx: ServiceContext, order: Order, version: int, position: int = 0) -> OrderView:
    assert order.order_id is not None
    return order_view(order, version, await progress_of(ctx.pool, order.order_id), position)


@post("/orders", responses=problem_responses(400, 401, 403, 409, 415, 422))
async def request_order(data: JSONBody[OrderIn], request: AnyRequest, principal: Caller, ctx: Context) -> Response[Any]:
    """Request quotes for a bulk order (honours ``Idempotency-Key``)."""
    principal.require(Role.BUYER)
    uses = [
        StandardUse(line.standard_id, line.standard_version, f"lines[{i}].standard_id", f"lines[{i}].standard_version")
        for i, line in enumerate(data.lines)
    ]
    if errors := await PUBLISHED_STANDARDS.refusals(ctx.pool, uses):
        raise InvalidInput(errors)
    order_id = new_id()
    command = RequestOrder(
        order_id=order_id,
        buyer_org=principal.org,
        lines=tuple(line.line(new_id()) for line in data.lines),
        incoterm=data.incoterm,
        destination_country=data.destination_country,
        destination_port=data.destination_port,
        loading_port=data.loading_port,
        required_by=data.required_by,
        notes=data.notes,
        requested_by=actor(principal),
        at=ctx.clock.now(),
    )

    async def decide(unit: UnitOfWork) -> Order:
        buyer = await unit.load(BUYER, buyer_stream(principal.org))
        if not buyer.registered:
            raise Conflict(
                f"organisation {principal.org} is not a registered buyer; register it with POST /v1/buyers first",
                problem="buyer-not-registered",
            )
        order, _ = await unit.execute(ORDER, order_stream(order_id), command)
        return order

    async def work(connection: Connection | None) -> tuple[int, Any]:
        metadata = order_metadata(request, principal, order_id)
        outcome = await run_command(ctx.store, decide, metadata=metadata, connection=connection)
        return 201, await _view(ctx, outcome.value, outcome.versions[order_stream(order_id)], outcome.position)

    stored = await idempotent(ctx, request, principal, work)
    return Response(content=stored.body, status_code=stored.status, media_type="application/json")


@get("/orders", responses=problem_responses(401, 403, 422))
async def list_orders(
    principal: Caller,
    ctx: Context,
    in_state: Annotated[OrderState | None, QueryParameter(name="state")] = None,
    buyer: Annotated[str | None, QueryParameter(name="buyer", min_length=1, max_length=100)] = None,
    required_from: Annotated[date | None, QueryParameter(name="required_by_from")] = None,
    required_to: Annotated[date | None, QueryParameter(name="required_by_to")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
    wait_for: WaitFor = None,
) -> Page[OrderSummary]:
    """Orders the caller may see, oldest first, filtered by state, buyer and required-by range."""
    principal.require(Role.BUYER, Role.AGGREGATOR)
    await wait_for_position(ctx, wait_for)
    query = sa.select(orders).order_by(orders.c.id).limit(limit + 1)
    if principal.role is Role.BUYER:
        query = query.where(orders.c.buyer_org == principal.org)
    elif principal.role is Role.AGGREGATOR:
        query = query.where(sa.or_(orders.c.aggregator_org == principal.org, orders.c.state == "requested"))
    if in_state is not None:
        query = query.where(orders.c.state == in_state)
    if buyer is not None:
        query = query.where(orders.c.buyer_org == buyer)
    if required_from is not None:
        query = query.where(orders.c.required_by >= required_from)
    if required_to is not None:
        query = query.where(orders.c.required_by <= required_to)
    after = BY_ID.decode(cursor)
    if after is not None:
        query = query.where(orders.c.id > after[0])
    rows = await fetch(ctx.pool, query)
    return BY_ID.page(rows, limit, _summary, lambda order: (order.id,))


def _summary(row: Any) -> OrderSummary:
    order = decode_order(row["document"])
    return OrderSummary(
        id=row["id"],
        buyer_org=row["buyer_org"],
        aggregator_org=row["aggregator_org"],
        state=row["state"],
        lines=len(order.lines),
        incoterm=order.incoterm,
        destination_country=order.destination_country,
        required_by=row["required_by"],
        requested_at=row["requested_at"],
        version=row["version"],
    )


@get("/orders/{order_id:uuid}", responses=problem_responses(401, 403, 404, 422))
async def get_order(
    order_id: FromPath[UUID],
    principal: Caller,
    ctx: Context,
    wait_for: WaitFor = None,
) -> OrderView:
    """An order with each line's live progress."""
    principal.require(Role.BUYER, Role.AGGREGATOR)
    await wait_for_position(ctx, wait_for)
    row = await fetchrow(ctx.pool, sa.select(orders).where(orders.c.id == order_id))
    if row is None or not can_see(principal, row["buyer_org"], row["aggregator_org"], row["state"]):
        raise NotFound(f"no order {order_id}")
    return await _view(ctx, decode_order(row["document"]), row["version"])


async def _command(
    ctx: ServiceContext, request: AnyRequest, principal: Principal, order_id: UUID, command: OrderCommand
) -> OrderView:
    """Run one order command on an order the caller can see, honouring ``If-Match``."""
    expected = if_match(request)
    stream = order_stream(order_id)

    async def work(unit: UnitOfWork) -> tuple[Order, int]:
        await _load_visible(unit, principal, order_id)
        version = await unit.version(stream)
        check_version(expected, version)
        order, events = await unit.execute(ORDER, stream, command)
        if events and isinstance(command, QuoteOrder) and order.quote is not None:
            payload = {"quote_number": order.quote.number}
            await schedule(
                unit.connection, QUOTE_EXPIRY, str(order_id), command.valid_until, payload, schema=ctx.schema
            )
        return order, version + len(events)

    metadata = order_metadata(request, principal, order_id)
    outcome = await run_command(ctx.store, work, metadata=metadata)
    order, version = outcome.value
    return await _view(ctx, order, version, outcome.position)


_COMMAND_PROBLEMS = problem_responses(400, 401, 403, 404, 409, 412, 415, 422)


@post("/orders/{order_id:uuid}/quote", status_code=200, responses=_COMMAND_PROBLEMS)
async def quote_order(
    order_id: FromPath[UUID], data: JSONBody[QuoteIn], request: AnyRequest, principal: Caller, ctx: Context
) -> OrderView:
    """Quote (or re-quote) every line: unit prices, lead time, and until when the quote holds."""
    principal.require(Role.AGGREGATOR)
    command = QuoteOrder(
        aggregator_org=principal.org,
        prices=tuple(line.quoted() for line in data.lines),
        lead_time_days=data.lead_time_days,
        valid_until=data.valid_until,
        quoted_by=actor(principal),
        at=ctx.clock.now(),
    )
    return await _command(ctx, request, principal, order_id, command)


@post("/orders/{order_id:uuid}/confirm", status_code=200, responses=_COMMAND_PROBLEMS)
async def confirm_order(
    order_id: FromPath[UUID],
    request: AnyRequest,
    principal: Caller,
    ctx: Context,
    quote_number: Annotated[int | None, QueryParameter(name="quote_number", ge=1, le=MAX_INTEGER)] = None,
) -> OrderView:
    """Accept the current quote before it expires (``?quote_number=`` refuses if it was superseded)."""
    principal.require(Role.BUYER)
    command = ConfirmOrder(confirmed_by=actor(principal), at=ctx.clock.now(), quote_number=quote_number)
    return await _command(ctx, request, principal, order_id, command)


@post("/orders/{order_id:uuid}/cancel", status_code=200, responses=_COMMAND_PROBLEMS)
async def cancel_order(
    order_id: FromPath[UUID], data: JSONBody[CancelIn], request: AnyRequest, principal: Caller, ctx: Context
) -> OrderView:
    """Cancel before shipping, with a reason; after production started the event records the consequences."""
    principal.require(Role.BUYER)
    command = CancelOrder(reason=data.reason, cancelled_by=actor(principal), at=ctx.clock.now())
    return await _command(ctx, request, principal, order_id, command)


@post("/orders/{order_id:uuid}/deliver", status_code=200, responses=_COMMAND_PROBLEMS)
async def confirm_delivery(order_id: FromPath[UUID], request: AnyRequest, principal: Caller, ctx: Context) -> OrderView:
    """The buyer confirms the shipped goods arrived."""
    principal.require(Role.BUYER)
    command = MarkDelivered(delivered_by=actor(principal), at=ctx.clock.now())
    return await _command(ctx, request, principal, order_id, command)


ORDER_ROUTES = [request_order, list_orders, get_order, quote_order, confirm_order, cancel_order, confirm_delivery]
