"""Routes that follow an order: its history in words, and its changes live as server-sent events."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, get
from litestar.params import FromPath
from litestar.response import ServerSentEvent

from services.orders.api.feed import order_changes
from services.orders.domain.access import can_see_order
from services.orders.domain.history import happened_at, summarise
from services.orders.domain.order import ORDER, Order, OrderEvent, order_stream
from services.orders.read.history_queries import told_by_others
from services.orders.read.views import HistoryItem, OrderHistory
from shared.api import Caller, Context
from shared.auth import Principal, Role
from shared.bounds import MAX_INTEGER
from shared.errors import InvalidInput, NotFound
from shared.eventstore import RecordedEvent
from shared.problems import problem_responses
from shared.service import ServiceContext
from shared.validation import is_digits


async def _visible_history(
    ctx: ServiceContext, principal: Principal, order_id: UUID
) -> list[tuple[RecordedEvent, OrderEvent]]:
    """The order's events, read from its stream; 404 unless the caller can see the order as it is now."""
    principal.require(Role.BUYER, Role.AGGREGATOR)
    records = await ctx.store.read_stream(order_stream(order_id))
    events: list[tuple[RecordedEvent, OrderEvent]] = [(r, ctx.store.decode(r)) for r in records]  # type: ignore[misc]
    order: Order = ORDER.fold(e for _, e in events)
    if not can_see_order(principal, order):
        raise NotFound(f"no order {order_id}")
    return events


@get("/orders/{order_id:uuid}/history", responses=problem_responses(401, 403, 404))
async def order_history(order_id: FromPath[UUID], principal: Caller, ctx: Context) -> OrderHistory:
    """What happened to the order, when and by whom, oldest first, with what other services did for it:
    pooling's events naming its lines and quality's verdicts on the lots delivered for them."""
    events = await _visible_history(ctx, principal, order_id)
    own = [
        (
            (happened_at(event), record.recorded_at, record.event_id),
            HistoryItem(
                at=happened_at(event),
                actor=record.metadata.actor,
                event=record.event_type,
                summary=summarise(event),
                version=record.stream_version,
            ),
        )
        for record, event in events
    ]
    others = [(entry.order_key, entry.item) for entry in await told_by_others(ctx.pool, order_id)]
    return OrderHistory([item for _, item in sorted(own + others, key=lambda pair: pair[0])])


@get("/orders/{order_id:uuid}/events", responses=problem_responses(401, 403, 404, 422))
async def order_events(
    order_id: FromPath[UUID], request: Request[Any, Any, Any], principal: Caller, ctx: Context
) -> ServerSentEvent:
    """The order's changes as ``text/event-stream``: ``id`` is the order's version, ``data`` its new state.

    With ``Last-Event-ID`` the changes after that version come first; without it, the current state.
    A comment line every 15 s keeps idle connections open.
    """
    await _visible_history(ctx, principal, order_id)
    raw = request.headers.get("Last-Event-ID")
    after: int | None = None
    if raw is not None:
        value = raw.strip()
        if not (is_digits(value) and len(value) <= 10 and int(value) <= MAX_INTEGER):
            raise InvalidInput.of("Last-Event-ID", "must be a version this stream sent, a non-negative integer")
        after = int(value)
    return ServerSentEvent(order_changes(ctx, principal, order_id, after), headers={"Cache-Control": "no-cache"})


FEED_ROUTES = [order_history, order_events]
