"""Quotes lapse on their own: a due action per order fires ``ExpireQuote`` when the quote's validity ends."""

from __future__ import annotations

from uuid import UUID

from services.orders.domain.order import ORDER, ExpireQuote, order_stream
from shared.decider import run_command
from shared.eventstore import Connection, Metadata
from shared.schedule import DueAction, run_due_actions
from shared.service import ServiceContext

QUOTE_EXPIRY = "quote-expiry"
"""Due-action kind; the subject is the order id, the payload names the quote number."""


async def expire_quote(ctx: ServiceContext, action: DueAction, connection: Connection) -> None:
    """Issue ``ExpireQuote``; a quote confirmed, superseded or already expired makes it a no-op."""
    order_id = UUID(action.subject)
    number = int(action.payload["quote_number"])
    command = ExpireQuote(quote_number=number, at=ctx.clock.now())
    metadata = Metadata(
        correlation_id=str(order_id), actor="orders:quote-expiry", command_id=f"{QUOTE_EXPIRY}:{order_id}:{number}"
    )
    await run_command(
        ctx.store,
        lambda unit: unit.execute(ORDER, order_stream(order_id), command),
        metadata=metadata,
        connection=connection,
    )


async def quote_expiry_worker(ctx: ServiceContext) -> None:
    """Service worker: lapse quotes whose validity has ended."""
    await run_due_actions(ctx, {QUOTE_EXPIRY: expire_quote})
