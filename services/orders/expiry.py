"""Quotes lapse on their own: a due action per order fires ``ExpireQuote`` when the quote's validity ends."""

from __future__ import annotations

from uuid import UUID

from services.orders.commands import QUOTE_EXPIRY, expire_quote
from shared.eventstore import Connection
from shared.schedule import DueAction, run_due_actions
from shared.service import ServiceContext


async def lapse_quote(ctx: ServiceContext, action: DueAction, connection: Connection) -> None:
    """The due action of a quote whose validity ended."""
    await expire_quote(ctx, UUID(action.subject), int(action.payload["quote_number"]), connection)


async def quote_expiry_worker(ctx: ServiceContext) -> None:
    """Service worker: lapse quotes whose validity has ended."""
    await run_due_actions(ctx, {QUOTE_EXPIRY: lapse_quote})
