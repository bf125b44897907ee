"""An order's live feed and its route: PostgreSQL LISTEN on the orders' events channel, shared by open streams.

Any replica can serve an order's event stream: the stream reads the order's own events from the store and is
woken by NOTIFY (sent by the event store after each commit), with polling as fallback while no LISTEN connection is up.

An event stream never ends by itself, and uvicorn waits for open responses before shutting an app down; so
while it runs, the feed chains onto the server's SIGINT/SIGTERM handlers and ends every open stream first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import AsyncIterator, Callable
from types import FrameType
from typing import Any
from uuid import UUID
from weakref import WeakKeyDictionary

import asyncpg
import msgspec
from litestar import Request, get
from litestar.params import FromPath
from litestar.response import ServerSentEvent, ServerSentEventMessage

from services.orders.domain.access import can_see_order
from services.orders.domain.line_progress import LineProgress
from services.orders.domain.order import ORDER, Order, OrderEvent, order_stream
from services.orders.read.progress import PROGRESS_CHANNEL, progress_of
from services.orders.read.queries import visible_events
from services.orders.read.views import order_view
from shared.api import Caller, Context
from shared.auth import Principal, Role
from shared.bounds import MAX_INTEGER
from shared.guards import Scope, allow
from shared.kernel.digits import is_digits
from shared.kernel.errors import InvalidInput
from shared.service import ServiceContext

log = logging.getLogger("gotong.orders.feed")

HEARTBEAT_SECONDS = 15.0
POLL_SECONDS = 1.0
"""How often a stream reads its order's events when no notification can come (LISTEN is down)."""
LISTENING_POLL_SECONDS = 5.0
"""A safety net even while LISTEN is up."""


class OrderFeed:
    """Wakes open order streams when orders' events commit, and ends them on shutdown."""

    def __init__(self) -> None:
        self._changed = asyncio.Event()
        self.closing = asyncio.Event()
        self.listening = False

    @property
    def changed(self) -> asyncio.Event:
        """Set at the next change; take it before reading, then wait on it."""
        return self._changed

    def notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def close(self) -> None:
        self.closing.set()
        self.notify()


_feeds: WeakKeyDictionary[ServiceContext, OrderFeed] = WeakKeyDictionary()


def feed_of(ctx: ServiceContext) -> OrderFeed:
    feed = _feeds.get(ctx)
    if feed is None:
        feed = _feeds[ctx] = OrderFeed()
    return feed


def _chain_shutdown_signals(on_signal: Callable[[], None]) -> Callable[[], None]:
    """Call ``on_signal`` (in the loop) on SIGINT/SIGTERM before the handlers already installed; returns undo."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    loop = asyncio.get_running_loop()
    installed: dict[int, tuple[Any, Any]] = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous = signal.getsignal(sig)
        if not callable(previous):
            continue

        def handler(signum: int, frame: FrameType | None, previous: Any = previous) -> None:
            loop.call_soon_threadsafe(on_signal)
            previous(signum, frame)

        signal.signal(sig, handler)
        installed[sig] = (handler, previous)

    def undo() -> None:
        for sig, (handler, previous) in installed.items():
            if signal.getsignal(sig) is handler:
                signal.signal(sig, previous)

    return undo


async def listen_for_changes(ctx: ServiceContext) -> None:
    """Service worker: keep one LISTEN connection for this replica's open order streams."""
    feed = feed_of(ctx)
    undo = _chain_shutdown_signals(feed.close)
    try:
        while True:
            try:
                await _listen(ctx, feed)
            except (OSError, asyncpg.PostgresError) as error:
                log.warning("order feed cannot LISTEN, streams poll meanwhile: %s", error)
            feed.listening = False
            await asyncio.sleep(POLL_SECONDS)
    finally:
        feed.listening = False
        feed.close()
        undo()
        _feeds.pop(ctx, None)


async def _listen(ctx: ServiceContext, feed: OrderFeed) -> None:
    assert ctx.settings.database_url is not None
    connection = await asyncpg.connect(ctx.settings.database_url)
    lost = asyncio.Event()
    try:
        connection.add_termination_listener(lambda _: lost.set())
        await connection.add_listener(ctx.store.notify_channel, lambda *_: feed.notify())
        await connection.add_listener(PROGRESS_CHANNEL, lambda *_: feed.notify())
        feed.listening = True
        feed.notify()  # whatever committed while no one listened
        await lost.wait()
    finally:
        with contextlib.suppress(Exception):
            await connection.close(timeout=2)


def _message(
    ctx: ServiceContext, order: Order, version: int, event: OrderEvent | None, progress: Any
) -> ServerSentEventMessage:
    """The order's state after ``event``; with no event, after a change of its lines' progress."""
    view = order_view(order, version, progress)
    name = ctx.store.codec.name_of(event)[0] if event is not None else PROGRESS_MESSAGE
    return ServerSentEventMessage(data=msgspec.json.encode(view).decode(), event=name, id=version)


PROGRESS_MESSAGE = "LineProgress"
"""The ``event`` of a message sent when supply moved a line on without changing the order itself."""


async def order_changes(
    ctx: ServiceContext, principal: Principal, order_id: UUID, after_version: int | None
) -> AsyncIterator[ServerSentEventMessage]:
    """The order's changes as server-sent events: after ``after_version``, or its current state, then live.

    A change of its lines' progress (pooling's supply) is sent as a ``LineProgress`` message with the
    order's current version. Ends when the caller can no longer see the order or the service shuts down.
    """
    feed = feed_of(ctx)
    stream = order_stream(order_id)
    loop = asyncio.get_running_loop()
    order, sent = ORDER.initial_state, 0
    last: tuple[OrderEvent, int] | None = None
    progress: dict[UUID, LineProgress] = await progress_of(ctx.pool, order_id)
    for record in await ctx.store.read_stream(stream):
        event: Any = ctx.store.decode(record)
        order, sent = ORDER.evolve(order, event), record.stream_version
        if after_version is not None and sent > after_version:
            yield _message(ctx, order, sent, event, progress)
        elif after_version is None:
            last = (event, sent)
    if last is not None:
        yield _message(ctx, order, sent, last[0], progress)
    heartbeat_due = loop.time() + HEARTBEAT_SECONDS
    while not feed.closing.is_set():
        changed = feed.changed
        records = await ctx.store.read_stream(stream, after_version=sent)
        for record in records:
            event = ctx.store.decode(record)
            order, sent = ORDER.evolve(order, event), record.stream_version
            progress = await progress_of(ctx.pool, order_id)
            yield _message(ctx, order, sent, event, progress)
        if records and not can_see_order(principal, order):
            return
        if not records and sent:
            now = await progress_of(ctx.pool, order_id)
            if now != progress:
                progress = now
                yield _message(ctx, order, sent, None, progress)
        poll = LISTENING_POLL_SECONDS if feed.listening else POLL_SECONDS
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(changed.wait(), max(0.0, min(poll, heartbeat_due - loop.time())))
        if loop.time() >= heartbeat_due:
            yield ServerSentEventMessage(data=None, comment="heartbeat")
            heartbeat_due = loop.time() + HEARTBEAT_SECONDS


@get("/orders/{order_id:uuid}/events", guards=[allow(Role.BUYER, Role.AGGREGATOR, scope=Scope.ORDERS_READ)])
async def order_events(
    order_id: FromPath[UUID], request: Request[Any, Any, Any], principal: Caller, ctx: Context
) -> ServerSentEvent:
    """The order's changes as ``text/event-stream``: ``id`` is the order's version, ``data`` its new state.

    With ``Last-Event-ID`` the changes after that version come first; without it, the current state.
    A comment line every 15 s keeps idle connections open.
    """
    await visible_events(ctx, principal, order_id)
    after = _last_event_id(request.headers.get("Last-Event-ID"))
    return ServerSentEvent(order_changes(ctx, principal, order_id, after), headers={"Cache-Control": "no-cache"})


def _last_event_id(raw: str | None) -> int | None:
    if raw is None:
        return None
    value = raw.strip()
    if not (is_digits(value) and len(value) <= 10 and int(value) <= MAX_INTEGER):
        raise InvalidInput.of("Last-Event-ID", "must be a version this stream sent, a non-negative integer")
    return int(value)


FEED_ROUTES = [order_events]
