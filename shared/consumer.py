"""Consumers of another service's events: durable pull consumers with an inbox, in aggregate order.

Each event is handled in one PostgreSQL transaction together with its inbox row and the per-stream
version it reached; the message is acknowledged after the commit. A duplicate is acknowledged and skipped;
an event that arrives before its predecessor is nak'd with a delay; a handler that keeps failing sends
the event to the dead-letter table. A subscription free of its streams' order takes its events once each as
they come (``Subscription.ordered``); one that names its types is sent only those (``Subscription.takes``).

Only the handler's own failures count towards the dead letter. When PostgreSQL or NATS is away, the
consumer keeps the messages it holds (telling JetStream they are in progress) and tries them again, with
backoff, until both are back: an outage never dead-letters a healthy event, and never leaves a message to
wait out its ack wait. Nor does a consumer that stops: it gives back (naks) what it holds unacknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from events.base import EventCodec
from shared import bus, logs, metrics
from shared.eventstore import EventStore
from shared.inbox import Delivery, Early, Subscription, Taken, dead_letter, handle_batch, handle_once, parse_parts
from shared.outages import Backoff, is_outage

log = logging.getLogger("gotong.consumer")
ACK_SECONDS = 5.0  # how long JetStream may take to confirm it has a batch's acks
ACK_WAIT_SECONDS = 30.0  # JetStream redelivers a message not acknowledged within this
MAX_REMEMBERED_FAILURES = 10_000  # events whose handler failures a consumer counts at once
IN_PROGRESS_SECONDS = 5.0  # how often messages held through an outage or a long batch are reported in progress
FETCH_SECONDS = 1.0  # how long a fetch waits for a first message
LEASE_CHECK_SECONDS = 1.0  # how often a consumer another replica holds looks whether that one has caught up


async def to_the_end(cleanup: Awaitable[None]) -> None:
    """Await ``cleanup`` to its end though the task awaiting it is cancelled meanwhile, once or again and again;
    such a cancellation is raised once it has ended."""
    task = asyncio.ensure_future(cleanup)
    cancelled = False
    while not task.done():
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            cancelled = True
    if cancelled:
        raise asyncio.CancelledError
    task.result()


def parse(msg: Msg, codec: EventCodec) -> Delivery:
    return parse_parts(msg.headers or {}, msg.data, codec)


class Consumer:
    """Runs one subscription: fetch, handle in a transaction with the inbox, ack after commit."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        store: EventStore,
        js: JetStreamContext,
        prefix: str,
        subscription: Subscription,
        *,
        max_deliveries: int = 5,
        batch: int = 100,
        backoff: Callable[[int], float] = lambda n: min(0.05 * 2**n, 5.0),
    ) -> None:
        self.pool = pool
        self.store = store
        self.js = js
        self.prefix = prefix
        self.subscription = subscription
        self.max_deliveries = max_deliveries
        self.batch = batch
        self.backoff = backoff
        self.durable = f"{store.schema}-{subscription.name}".replace(".", "-")
        self.stream = bus.stream_name(prefix, subscription.source)
        self.handled = 0
        self.caught_up = asyncio.Event()
        self._target: int | None = None
        self._failures: dict[int, int] = {}  # the handler's own failures, by stream sequence
        self._holding: list[Msg] = []  # messages fetched and not yet acknowledged or nak'd, oldest first
        self._waiting = 0  # messages JetStream said were waiting after the last one fetched
        self._acknowledging: asyncio.Future[None] | None = None  # the acks of the batches committed last
        self.leased = asyncio.Event()
        """Set while this replica consumes the subscription; ``shared.leases`` clears it when another replica
        holds the subscription's lease (without leases, always set)."""
        self.leased.set()
        self.paused = asyncio.Event()
        """Set once, not leased, the consumer has handed back what it held: another replica may take over."""

    async def run(self) -> None:
        """Consume until cancelled. The pull subscription outlives outages of NATS (the client subscribes again
        on reconnect), so what the server sends it in answer to fetches made meanwhile is not lost."""
        logs.service.set(self.store.schema)  # this task's log lines
        backoff = Backoff(f"consumer {self.durable}", log)
        subscription: Any = None
        try:
            while True:
                try:
                    if self._target is None:
                        info = await self.js.stream_info(self.stream)
                        self._target = info.state.last_seq
                        if not self._target:
                            self.caught_up.set()
                    if subscription is None:
                        subscription = await self._subscribe()
                    await self._consume(subscription, backoff)
                except asyncio.CancelledError:
                    raise
                except Exception as error:
                    if not is_outage(error):
                        raise  # a bug: the runtime logs it and starts the consumer again
                    await backoff.wait(error)
        finally:
            if self._acknowledging is not None:
                self._acknowledging.cancel()
                await asyncio.gather(self._acknowledging, return_exceptions=True)
                self._acknowledging = None  # started again, the consumer's first acks must not wait on these
            if subscription is not None:
                with contextlib.suppress(Exception):
                    await subscription.unsubscribe()

    async def _subscribe(self) -> Any:
        """The pull subscription, its durable consumer created or brought to this config: one made before a
        subscription named its types (or named others) is sent only those from then on."""
        source, takes = self.subscription.source, self.subscription.takes
        config = ConsumerConfig(
            name=self.durable,
            durable_name=self.durable,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=ACK_WAIT_SECONDS,
            max_deliver=-1,
            max_ack_pending=1000,
            filter_subject=None if takes else bus.subject(self.prefix, source),
            filter_subjects=[bus.subject(self.prefix, source, name) for name in sorted(takes)] if takes else None,
        )
        made = await self.js.add_consumer(self.stream, config)
        if takes and not made.config.filter_subjects:  # NATS before 2.10 ignores them
            log.warning("%s: this NATS (before 2.10) sends it every event type; it ignores the others", self.durable)
        return await self.js.pull_subscribe_bind(durable=self.durable, stream=self.stream)

    async def _consume(self, subscription: Any, backoff: Backoff) -> None:
        heartbeat = asyncio.create_task(self._report_in_progress(), name=f"in-progress:{self.durable}")
        fetching: asyncio.Future[list[Msg]] | None = None
        try:
            while True:
                if not self.leased.is_set():
                    await self._hand_back(fetching)
                    fetching = None
                    await self._wait_for_lease(subscription)
                fetching = fetching or asyncio.ensure_future(self._fetch(subscription))
                try:
                    messages = await asyncio.shield(fetching)  # stopped meanwhile, the consumer lets it finish
                except TimeoutError:
                    fetching, self._waiting = None, 0
                    if self._target is not None and not self.caught_up.is_set():
                        pending = (await subscription.consumer_info()).num_pending
                        if pending == 0:
                            self.caught_up.set()
                    continue
                backoff.succeeded()
                # With a batch or more waiting, the next batch comes from NATS while this one is handled in
                # PostgreSQL. With fewer, it is fetched after: it then also holds what arrives meanwhile, which a
                # fetch made now would leave waiting for the batch after it.
                fetching = asyncio.ensure_future(self._fetch(subscription)) if self._waiting >= self.batch else None
                await self._process_batch(messages)
                self._holding = [msg for msg in self._holding if not msg._ackd]
                if self._acknowledging is not None and self._acknowledging.done():
                    self._acknowledging.result()  # a bug while acknowledging: the runtime starts the consumer again
        finally:
            heartbeat.cancel()
            # ``Runtime.stop`` cancels again and again until the task ends: letting go runs to its end regardless.
            await to_the_end(self._let_go(fetching))

    async def _let_go(self, fetching: asyncio.Future[list[Msg]] | None) -> None:
        """Stopped (or started again): give back what this consumer holds, so that the next one need not wait out
        JetStream's ack wait for it.

        A fetch cancelled midway drops what JetStream sends in answer, which would then wait out the ack wait and
        hold the stream's later events back as early. With messages waiting it is answered at once: it is let
        finish, and what it brings is given back. With none (idle), it would wait its second for the next one: it
        is cancelled (an event published in the few milliseconds until the subscription ends waits out the ack
        wait).
        """
        if fetching is not None:
            if not self._waiting:
                fetching.cancel()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(fetching, FETCH_SECONDS + 1)
        await self._give_back()

    async def _hand_back(self, fetching: asyncio.Future[list[Msg]] | None) -> None:
        """Stop between batches for the replica that takes the lease over: once the handled batches' acks are
        confirmed, give JetStream back what was fetched and not handled (a nak, for a redelivery at once, where
        a message left to its ack wait would hold its stream's later events back as early)."""
        if fetching is not None:
            with contextlib.suppress(TimeoutError):  # a fetch already asked for is answered within its second
                await asyncio.shield(fetching)  # stopped meanwhile, the consumer still gives back what it brings
        if self._acknowledging is not None:
            await self._acknowledging
        await self._give_back()
        self.paused.set()

    async def _give_back(self) -> None:
        """Have JetStream redeliver at once what this consumer holds and has not acknowledged (a nak): a message
        left to its ack wait would hold its stream's later events back as early. One handled already, its ack
        not yet confirmed, comes back as a duplicate."""
        held = [msg for msg in self._holding if not msg._ackd]
        self._holding = []
        with contextlib.suppress(Exception):  # NATS away: the ack wait redelivers them
            for msg in held:
                await msg.nak()
            if held:  # sent before the connection may close (a replica shutting down)
                await held[0]._client.flush(timeout=1)

    async def _wait_for_lease(self, subscription: Any) -> None:
        """Until this replica holds the lease again; meanwhile caught up once the replica that holds it has
        acknowledged what the stream held when this one started."""
        while not self.leased.is_set():
            if not self.caught_up.is_set() and self._target is not None:
                info = await subscription.consumer_info()
                floor = info.ack_floor  # a consumer of a few types may have none at the stream's last sequence
                if (floor is not None and floor.stream_seq >= self._target) or not (
                    info.num_pending or info.num_ack_pending
                ):
                    self.caught_up.set()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(LEASE_CHECK_SECONDS):
                    await self.leased.wait()
        self.paused.clear()

    async def _fetch(self, subscription: Any) -> list[Msg]:
        """The next messages: the first as soon as it arrives, with those waiting behind it, up to a batch.

        One request: asked with ``no_wait`` and an expiry, as nats-py asks, JetStream waits for a first message,
        then sends what it has and ends the request instead of lingering for a full batch.
        """
        messages: list[Msg] = await subscription.fetch(self.batch, timeout=FETCH_SECONDS)
        if not messages:  # the request ended with a status and no message (nats-py then returns none)
            raise TimeoutError
        self._waiting = messages[-1].metadata.num_pending
        self._holding += messages
        return messages

    async def _report_in_progress(self) -> None:
        """Keep JetStream from redelivering what this consumer holds while it waits out an outage."""
        while True:
            await asyncio.sleep(IN_PROGRESS_SECONDS)
            for msg in [msg for msg in self._holding if not msg._ackd]:
                with contextlib.suppress(Exception):
                    await msg.in_progress()

    async def _process_batch(self, messages: list[Msg]) -> None:
        """Handle the messages in one transaction and ack them after its commit (those that came before their
        predecessor are left for a redelivery); on any error, one at a time.

        A single message too: ``handle_batch`` takes one statement fewer than ``handle_once``, which then
        only decides what an error means.
        """
        try:
            deliveries = [parse(msg, self.subscription.codec) for msg in messages]
            outcomes = await handle_batch(self.pool, self.store, self.subscription, deliveries)
        except Exception as error:
            log.debug("%s: handling %d messages one at a time: %s", self.durable, len(messages), error)
        else:
            done: list[Msg] = []
            early: list[Msg] = []
            for msg, outcome in zip(messages, outcomes, strict=True):
                (early if outcome is Taken.EARLY else done).append(msg)
            self._acknowledge_meanwhile(done)
            for msg in early:
                log.debug("%s: %s arrived before its predecessor", self.durable, msg.subject)
                await self._until_reachable(functools.partial(self._wait_for_predecessor, msg))
            return
        for msg in messages:
            await self._until_reachable(functools.partial(self._process, msg))

    def _acknowledge_meanwhile(self, messages: list[Msg]) -> None:
        """Acknowledge a committed batch while the next one is handled, once the batches before it are.

        Through an outage the acks are sent again until NATS confirms them, even while the consumer subscribes
        anew; until then the messages count as held (reported in progress) for as long as this subscription lasts.
        """
        before = self._acknowledging

        async def acknowledge() -> None:
            if before is not None:
                await before
            await self._until_reachable(lambda: self._ack_all(messages))

        self._acknowledging = asyncio.ensure_future(acknowledge())

    async def _ack_all(self, messages: list[Msg]) -> None:
        acknowledged = await self._acknowledge(messages)
        for msg in acknowledged:
            self._handled(msg)
        # The last message stands for the batch (they come in stream order, but for redeliveries; a target missed
        # so is seen at the next fetch that finds nothing): parsing each one's reply subject for its sequence cost
        # more than the rest of its bookkeeping.
        if acknowledged and not self.caught_up.is_set() and self._reached_target(acknowledged[-1]):
            self.caught_up.set()

    def _reached_target(self, msg: Msg) -> bool:
        return self._target is not None and msg.metadata.sequence.stream >= self._target

    async def _acknowledge(self, messages: list[Msg]) -> list[Msg]:
        """Acknowledge what of ``messages`` is not yet; returns those newly acknowledged.

        One round trip for them all: a plain publish per ack, and for the last a request JetStream answers once it
        has taken it, which it does after the others, sent before it on the same connection. A message is marked
        acknowledged (nats-py's ``_ackd``) only then, so when an outage cuts the round trip the next try sends its
        ack again (a second ack of a message is ignored) rather than leave it to wait out its ack wait.
        """
        unacknowledged = [msg for msg in messages if not msg._ackd]
        if not unacknowledged:
            return []
        *first, last = unacknowledged
        for msg in first:
            await msg._client.publish(msg.reply)  # what ``msg.ack()`` sends, without marking it acknowledged yet
        await last.ack_sync(timeout=ACK_SECONDS)
        for msg in first:
            msg._ackd = True
        return unacknowledged

    async def _until_reachable(self, attempt: Callable[[], Awaitable[None]]) -> None:
        """Run ``attempt`` until PostgreSQL and NATS let it finish: an outage is waited out, not counted.

        Trying a handled event again is harmless: the inbox makes it a duplicate, which is acknowledged.
        """
        await Backoff(f"consumer {self.durable} (holding {len(self._holding)} messages)", log).retry(attempt)

    async def _process(self, msg: Msg) -> None:
        sequence = msg.metadata.sequence.stream
        try:
            delivery = parse(msg, self.subscription.codec)
            await handle_once(self.pool, self.store, self.subscription, delivery)
        except Early as early:
            log.debug("%s: %s", self.durable, early)
            await self._wait_for_predecessor(msg)
            return
        except Exception as error:
            if is_outage(error):
                raise
            if len(self._failures) > MAX_REMEMBERED_FAILURES:
                self._failures.clear()  # events retried by other replicas meanwhile; forgetting costs retries
            failures = self._failures[sequence] = self._failures.get(sequence, 0) + 1
            metrics.HANDLER_FAILURES.labels(self.durable).inc()
            fields = {"event_id": (msg.headers or {}).get(bus.EVENT_ID)}
            if failures >= self.max_deliveries:
                log.error(
                    "%s: dead-lettering %s after %d failures: %s",
                    self.durable,
                    msg.subject,
                    failures,
                    error,
                    extra={"fields": fields},
                )
                await dead_letter(self.pool, self.store.schema, self.subscription, msg, error, failures)
                metrics.DEAD_LETTERED.labels(self.durable).inc()
                await self._acknowledge([msg])
                self._failures.pop(sequence, None)
            else:
                log.warning("%s: handler failed (try %d): %s", self.durable, failures, error, extra={"fields": fields})
                await msg.nak(delay=self.backoff(failures))
            return
        self._failures.pop(sequence, None)
        await self._ack_all([msg])

    async def _wait_for_predecessor(self, msg: Msg) -> None:
        """Have an early event redelivered, later each time it comes early again."""
        await msg.nak(delay=self.backoff(min(msg.metadata.num_delivered or 1, 6)))

    def _handled(self, msg: Msg) -> None:
        self.handled += 1
