"""The bus benchmark's latency runs, each part in its own process, as Gotong deploys them: the service that
appends (the benchmark's own process), its relay (here ``relay``: in a deployment, a task of the appending
service's process, which does not also append 1,000 events a second on its event loop) and the consumer in
another service's process (``consumer``, with its inbox); for the baseline, the same publisher against a bare
pull consumer (``bare``).

    python bench/_bus_roles.py relay DATABASE_URL NATS_URL PREFIX
    python bench/_bus_roles.py consumer DATABASE_URL NATS_URL PREFIX NAME WARM TOTAL [at-once]
    python bench/_bus_roles.py bare DATABASE_URL NATS_URL PREFIX NAME WARM TOTAL

The relay prints ``ready``, and when terminated one JSON line: when each event's publish was acknowledged. A
bare consumer prints ``ready`` once subscribed. Both consumers print ``warm`` once they have handled the first
WARM events, then, once they have handled TOTAL, one JSON line: when each event was confirmed handled (its
handling committed, its ack confirmed), and for the consumer with its inbox also when it was fetched and when
its handling committed. Times are ``time.perf_counter()``, by event id: on Linux that clock is CLOCK_MONOTONIC,
one clock for every process of the machine, so the benchmark's process compares them with its own schedule.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from collections.abc import Awaitable, Callable

import asyncpg
import msgspec
from _bus_setup import SOURCE, bare_config, timed_consumer
from nats.js import JetStreamContext

from shared import bus
from shared.database import create_pool
from shared.eventstore import EventStore, RecordedEvent
from shared.relay import Relay
from tests.support.audit_service import audit_service
from tests.support.ledger import ledger_store


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def relay(pool: asyncpg.Pool, database_url: str, js: JetStreamContext, prefix: str) -> None:
    """The ledger's relay, woken by its store's NOTIFY as the runtime wakes it, until terminated (SIGTERM); then
    each event's id and the time its publish was acknowledged."""
    published_at: dict[str, float] = {}

    def published(records: list[RecordedEvent]) -> None:
        now = time.perf_counter()
        published_at.update((str(record.event_id), now) for record in records)

    ledger = await ledger_store(pool)
    relaying = Relay(ledger, database_url, js, prefix, before_checkpoint=published)
    running = asyncio.ensure_future(relaying.run())
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, running.cancel)
    listener: asyncpg.Connection = await asyncpg.connect(database_url)
    await listener.add_listener(ledger.notify_channel, lambda *_: relaying.wake())
    say("ready")
    await asyncio.gather(running, return_exceptions=True)
    await listener.close()
    say(msgspec.json.encode({"published": published_at}).decode())


async def consumer(
    pool: asyncpg.Pool, js: JetStreamContext, prefix: str, name: str, warm: int, total: int, *, at_once: bool
) -> None:
    """The audit service's handler with its inbox, until it has handled ``total`` events; ``at_once``: its batch
    handler."""
    audit = EventStore(pool, "audit", audit_service.codec)
    timed = timed_consumer(pool, audit, js, prefix, name, at_once=at_once)
    task = asyncio.create_task(timed.run())
    await timed.handle(warm)
    say("warm")
    await timed.handle(total)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    times = {"fetched": timed.fetched_at, "committed": timed.committed_at, "handled": timed.handled_at}
    say(msgspec.json.encode(times).decode())


async def bare(js: JetStreamContext, prefix: str, name: str, warm: int, total: int) -> None:
    """A bare pull consumer: fetch up to 100, ack each, the last with a request, as ``Consumer`` confirms its
    acks; an event counts once its ack is confirmed."""
    subscription = await js.pull_subscribe(
        bus.subject(prefix, SOURCE), durable=name, stream=bus.stream_name(prefix, SOURCE), config=bare_config(name)
    )
    say("ready")
    acknowledged: dict[str, float] = {}
    while len(acknowledged) < total:
        try:
            messages = await subscription.fetch(100, timeout=1)
        except TimeoutError:
            continue
        for msg in messages[:-1]:
            await msg.ack()
        await messages[-1].ack_sync()  # confirms the others too, sent before it
        now = time.perf_counter()
        before = len(acknowledged)
        acknowledged.update(((msg.headers or {})[bus.EVENT_ID], now) for msg in messages)
        if before < warm <= len(acknowledged):
            say("warm")
    await subscription.unsubscribe()
    say(msgspec.json.encode({"handled": acknowledged}).decode())


async def main(role: str, database_url: str, nats_url: str, prefix: str, *rest: str) -> None:
    pool = await create_pool(database_url, size=10, application=f"gotong-bench-{role}")
    nats = await bus.connect(nats_url, name=f"gotong-bench-{role}")
    js = nats.jetstream()
    roles: dict[str, Callable[[], Awaitable[None]]] = {
        "relay": lambda: relay(pool, database_url, js, prefix),
        "consumer": lambda: consumer(pool, js, prefix, rest[0], int(rest[1]), int(rest[2]), at_once="at-once" in rest),
        "bare": lambda: bare(js, prefix, rest[0], int(rest[1]), int(rest[2])),
    }
    try:
        await roles[role]()
    finally:
        await nats.close()
        await pool.close()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
