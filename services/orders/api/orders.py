"""Routes of bulk orders: request, list, read, quote, confirm, cancel, confirm delivery."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from events.orders import OrderState
from services.orders import commands
from services.orders.api.bodies import CancelIn, OrderIn, QuoteIn
from services.orders.domain.order import CancelOrder, ConfirmOrder, MarkDelivered, QuoteOrder, RequestOrder
from services.orders.read import queries
from services.orders.read.views import OrderSummary, OrderView
from shared.api import (
    Caller,
    Context,
    Cursor,
    Limit,
    WaitFor,
    command_metadata,
    idempotent,
    if_match,
    stored_answer,
    wait_for_position,
)
from shared.auth import Principal, Role
from shared.bounds import MAX_INTEGER
from shared.eventstore import Connection, Metadata
from shared.guards import Scope, allow
from shared.kernel.ids import new_id
from shared.pages import Page
from shared.problems import problem_responses

AnyRequest = Request[Any, Any, Any]
BUYERS = [allow(Role.BUYER, scope=Scope.ORDERS_WRITE)]
AGGREGATORS = [allow(Role.AGGREGATOR, scope=Scope.ORDERS_WRITE)]
BOTH = [allow(Role.BUYER, Role.AGGREGATOR, scope=Scope.ORDERS_READ)]
_COMMAND_PROBLEMS = problem_responses(409, 412)


def actor(principal: Principal) -> str:
    return f"{principal.role.value}:{principal.sub}"


def order_metadata(request: AnyRequest, principal: Principal, order_id: UUID) -> Metadata:
    """Every command on an order is correlated by the order's id, so its consequences elsewhere can be found."""
    return msgspec.structs.replace(command_metadata(request, principal), correlation_id=str(order_id))


@post("/orders", guards=BUYERS, responses=problem_responses(409))
async def request_order(
    data: JSONBody[OrderIn], request: AnyRequest, principal: Caller, ctx: Context
) -> Response[OrderView]:
    """Request quotes for a bulk order (honours ``Idempotency-Key``)."""
    await commands.refuse_unpublished_standards(ctx, data.standards())
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

    async def work(connection: Connection | None) -> tuple[int, Any]:
        metadata = order_metadata(request, principal, order_id)
        return 201, await commands.request_order(ctx, command, metadata, connection)

    return stored_answer(await idempotent(ctx, request, principal, work), OrderView)


@get("/orders", guards=BOTH)
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
    await wait_for_position(ctx, wait_for)
    filters = queries.OrderFilter(state=in_state, buyer=buyer, required_from=required_from, required_to=required_to)
    return await queries.list_orders(ctx.pool, principal, filters, limit, cursor)


@get("/orders/{order_id:uuid}", guards=BOTH)
async def get_order(order_id: FromPath[UUID], principal: Caller, ctx: Context, wait_for: WaitFor = None) -> OrderView:
    """An order with each line's live progress."""
    await wait_for_position(ctx, wait_for)
    return await queries.find_order(ctx.pool, principal, order_id)


@post("/orders/{order_id:uuid}/quote", guards=AGGREGATORS, status_code=200, responses=_COMMAND_PROBLEMS)
async def quote_order(
    order_id: FromPath[UUID], data: JSONBody[QuoteIn], request: AnyRequest, principal: Caller, ctx: Context
) -> OrderView:
    """Quote (or re-quote) every line: unit prices, lead time, and until when the quote holds."""
    command = QuoteOrder(
        aggregator_org=principal.org,
        prices=tuple(line.quoted() for line in data.lines),
        lead_time_days=data.lead_time_days,
        valid_until=data.valid_until,
        quoted_by=actor(principal),
        at=ctx.clock.now(),
    )
    metadata = order_metadata(request, principal, order_id)
    return await commands.quote_order(ctx, principal, order_id, command, if_match(request), metadata)


@post("/orders/{order_id:uuid}/confirm", guards=BUYERS, status_code=200, responses=_COMMAND_PROBLEMS)
async def confirm_order(
    order_id: FromPath[UUID],
    request: AnyRequest,
    principal: Caller,
    ctx: Context,
    quote_number: Annotated[int | None, QueryParameter(name="quote_number", ge=1, le=MAX_INTEGER)] = None,
) -> OrderView:
    """Accept the current quote before it expires (``?quote_number=`` refuses if it was superseded)."""
    command = ConfirmOrder(confirmed_by=actor(principal), at=ctx.clock.now(), quote_number=quote_number)
    metadata = order_metadata(request, principal, order_id)
    return await commands.confirm_order(ctx, principal, order_id, command, if_match(request), metadata)


@post("/orders/{order_id:uuid}/cancel", guards=BUYERS, status_code=200, responses=_COMMAND_PROBLEMS)
async def cancel_order(
    order_id: FromPath[UUID], data: JSONBody[CancelIn], request: AnyRequest, principal: Caller, ctx: Context
) -> OrderView:
    """Cancel before shipping, with a reason; after production started the event records the consequences."""
    command = CancelOrder(reason=data.reason, cancelled_by=actor(principal), at=ctx.clock.now())
    metadata = order_metadata(request, principal, order_id)
    return await commands.cancel_order(ctx, principal, order_id, command, if_match(request), metadata)


@post("/orders/{order_id:uuid}/deliver", guards=BUYERS, status_code=200, responses=_COMMAND_PROBLEMS)
async def confirm_delivery(order_id: FromPath[UUID], request: AnyRequest, principal: Caller, ctx: Context) -> OrderView:
    """The buyer confirms the shipped goods arrived."""
    command = MarkDelivered(delivered_by=actor(principal), at=ctx.clock.now())
    metadata = order_metadata(request, principal, order_id)
    return await commands.confirm_delivery(ctx, principal, order_id, command, if_match(request), metadata)


ORDER_ROUTES = [request_order, list_orders, get_order, quote_order, confirm_order, cancel_order, confirm_delivery]
