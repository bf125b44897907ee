"""Orders' use cases, one function each: load, decide, append. The routes, the quote expiry and the handlers
of other services' events call them; nothing else appends to orders' streams."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from uuid import UUID

from services.orders.domain.access import can_see_order
from services.orders.domain.buyer import BUYER, Buyer, RegisterBuyer, buyer_stream, require_registered
from services.orders.domain.milestones import due_milestones
from services.orders.domain.order import (
    ORDER,
    CancelOrder,
    ConfirmOrder,
    ExpireQuote,
    MarkDelivered,
    Order,
    OrderCommand,
    QuoteOrder,
    RequestOrder,
    order_stream,
)
from services.orders.read.progress import covered_since, progress_of
from services.orders.read.queries import with_progress
from services.orders.read.tables import PUBLISHED_STANDARDS
from services.orders.read.views import BuyerView, OrderView, buyer_view
from shared.api import check_version
from shared.auth import Principal
from shared.decider import UnitOfWork, run_command
from shared.eventstore import Connection, EventStore, Metadata
from shared.kernel.errors import Forbidden, InvalidInput, NotFound
from shared.published_standards import StandardUse
from shared.schedule import schedule
from shared.service import ServiceContext

QUOTE_EXPIRY = "quote-expiry"
"""Due-action kind; the subject is the order id, the payload names the quote number."""


async def register_buyer(
    ctx: ServiceContext, principal: Principal, command: RegisterBuyer, metadata: Metadata, connection: Connection | None
) -> BuyerView:
    """Register a buyer organisation: the caller's own, or any when the caller is an admin."""
    if command.org != principal.org and not principal.is_admin:
        raise Forbidden("a buyer can only register its own organisation")
    stream = buyer_stream(command.org)
    outcome = await run_command(
        ctx.store, lambda unit: unit.execute(BUYER, stream, command), metadata=metadata, connection=connection
    )
    buyer: Buyer = outcome.value[0]
    return buyer_view(buyer, outcome.versions[stream], outcome.position)


async def refuse_unpublished_standards(ctx: ServiceContext, standards: list[StandardUse]) -> None:
    """422 naming each line whose standard quality has not published. It may wait a moment for quality's news,
    so it runs before ``request_order``, outside the transaction that records an ``Idempotency-Key``."""
    if errors := await PUBLISHED_STANDARDS.refusals(ctx.pool, standards):
        raise InvalidInput(errors)


async def request_order(
    ctx: ServiceContext, command: RequestOrder, metadata: Metadata, connection: Connection | None
) -> OrderView:
    """Request quotes for a bulk order of a registered buyer organisation."""
    stream = order_stream(command.order_id)

    async def decide(unit: UnitOfWork) -> Order:
        require_registered(await unit.load(BUYER, buyer_stream(command.buyer_org)), command.buyer_org)
        order, _ = await unit.execute(ORDER, stream, command)
        return order

    outcome = await run_command(ctx.store, decide, metadata=metadata, connection=connection)
    return await with_progress(ctx.pool, outcome.value, outcome.versions[stream], outcome.position)


async def quote_order(
    ctx: ServiceContext,
    principal: Principal,
    order_id: UUID,
    command: QuoteOrder,
    expected: int | None,
    metadata: Metadata,
) -> OrderView:
    """Quote (or re-quote) an order; the quote lapses on its own when its validity ends."""

    async def lapse(unit: UnitOfWork, order: Order) -> None:
        if order.quote is not None:
            payload = {"quote_number": order.quote.number}
            await schedule(
                unit.connection, QUOTE_EXPIRY, str(order_id), command.valid_until, payload, schema=ctx.schema
            )

    return await _on_order(ctx, principal, order_id, command, expected, metadata, lapse)


async def confirm_order(
    ctx: ServiceContext,
    principal: Principal,
    order_id: UUID,
    command: ConfirmOrder,
    expected: int | None,
    metadata: Metadata,
) -> OrderView:
    """Accept the order's current quote."""
    return await _on_order(ctx, principal, order_id, command, expected, metadata)


async def cancel_order(
    ctx: ServiceContext,
    principal: Principal,
    order_id: UUID,
    command: CancelOrder,
    expected: int | None,
    metadata: Metadata,
) -> OrderView:
    """Cancel the order before it ships."""
    return await _on_order(ctx, principal, order_id, command, expected, metadata)


async def confirm_delivery(
    ctx: ServiceContext,
    principal: Principal,
    order_id: UUID,
    command: MarkDelivered,
    expected: int | None,
    metadata: Metadata,
) -> OrderView:
    """Record that the shipped goods arrived."""
    return await _on_order(ctx, principal, order_id, command, expected, metadata)


async def _on_order(
    ctx: ServiceContext,
    principal: Principal,
    order_id: UUID,
    command: OrderCommand,
    expected: int | None,
    metadata: Metadata,
    then: Callable[[UnitOfWork, Order], Awaitable[None]] | None = None,
) -> OrderView:
    """Run one command on an order the caller can see (404 otherwise) at the version it expects, if it says."""
    stream = order_stream(order_id)

    async def work(unit: UnitOfWork) -> tuple[Order, int]:
        if not can_see_order(principal, await unit.load(ORDER, stream)):
            raise NotFound(f"no order {order_id}")
        version = await unit.version(stream)
        check_version(expected, version)
        order, events = await unit.execute(ORDER, stream, command)
        if events and then is not None:
            await then(unit, order)
        return order, version + len(events)

    outcome = await run_command(ctx.store, work, metadata=metadata)
    order, version = outcome.value
    return await with_progress(ctx.pool, order, version, outcome.position)


async def expire_quote(ctx: ServiceContext, order_id: UUID, quote_number: int, connection: Connection) -> None:
    """Lapse the quote numbered ``quote_number``; a quote confirmed, superseded or already expired makes it a no-op."""
    command = ExpireQuote(quote_number=quote_number, at=ctx.clock.now())
    metadata = Metadata(
        correlation_id=str(order_id),
        actor="orders:quote-expiry",
        command_id=f"{QUOTE_EXPIRY}:{order_id}:{quote_number}",
    )
    await run_command(
        ctx.store,
        lambda unit: unit.execute(ORDER, order_stream(order_id), command),
        metadata=metadata,
        connection=connection,
    )


async def advance_order(
    store: EventStore,
    connection: Connection,
    order_id: UUID,
    at: datetime,
    consignment_id: UUID | None,
    metadata: Metadata,
) -> None:
    """Move the order to the milestone its supply has reached (each command is a no-op once reached)."""
    stream = order_stream(order_id)

    async def work(unit: UnitOfWork) -> None:
        order = await unit.load(ORDER, stream)
        if order.state is None:
            return
        progress = await progress_of(unit.connection, order_id)
        since = await covered_since(unit.connection, order_id)
        for command in due_milestones(order, progress, at, consignment_id, since):
            await unit.execute(ORDER, stream, command)

    await run_command(store, work, metadata=metadata, connection=connection)
