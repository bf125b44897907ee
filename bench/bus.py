"""Benchmark of the bus: the outbox relay and the inbox consumer against raw nats-py, and end-to-end latency.

    python bench/bus.py                 # 5 interleaved rounds
    python bench/bus.py --rounds 3      # quicker

Relay: N events are appended to the ledger's store beforehand; a ``Relay`` publishes them to a fresh
JetStream stream, against raw nats-py publishing the very same messages (subject, data, headers) to a
stream of the same kind: ``js.publish_async`` + ``publish_async_completed()``, and concurrent ``js.publish``
with the relay's in-flight window. Consumer: a ``Consumer`` whose handler writes one row (the audit
service's) against a bare pull consumer (fetch a batch, ack each) over the same N messages. Latency: one
event appended every millisecond for 10 s (then every 2 ms, for context), each in its own transaction on a
schedule, while a relay and a consumer run in the same process, woken by LISTEN/NOTIFY as the runtime wakes
them; from each event's scheduled time to its handler's commit and ack. PostgreSQL's activity is sampled
meanwhile to show what the appends wait on. Each such run is paired with one of the baseline, in turns: the
same messages published raw (``js.publish`` on the same schedule) to a bare pull consumer, from each one's
scheduled time to its ack, confirmed as the consumer confirms its acks.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from uuid import UUID

import asyncpg
from _bus_setup import METADATA, OPENED, SOURCE, Bench, Latency, inbox_consumer, seed
from _servers import (
    bench_servers,
    interleaved,
    load,
    machine,
    markdown_table,
    median,
    percentile,
    ratios,
    scratch_database,
    wait_sampling,
)
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from shared import bus
from shared.database import create_pool
from shared.eventstore import EventStore, RecordedEvent
from shared.kernel.ids import new_id
from shared.migrations import migrate
from shared.relay import Relay, event_headers
from tests.support.audit_service import audit_service
from tests.support.ledger import ledger_store

IN_FLIGHT = 256  # the relay's default window


async def relay_all(bench: Bench, prefix: str) -> float:
    """Seconds a new relay takes, from its start, until every event is acknowledged by JetStream."""
    await bench.pool.execute(f"DELETE FROM {SOURCE}.checkpoints WHERE name = 'relay'")
    done = asyncio.Event()
    acknowledged = 0

    def count(records: list[RecordedEvent]) -> None:
        nonlocal acknowledged
        acknowledged += len(records)
        if acknowledged >= bench.events:
            done.set()

    relay = Relay(bench.ledger, bench.database_url, bench.js, prefix, before_checkpoint=count)
    started = time.perf_counter()
    task = asyncio.create_task(relay.run())
    await done.wait()
    elapsed = time.perf_counter() - started
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return elapsed


def relay_throughput(bench: Bench) -> Callable[[], Awaitable[float]]:
    async def measure() -> float:
        prefix = await bench.fresh_stream()
        elapsed = await relay_all(bench, prefix)
        await bench.drop_stream(prefix, expected=bench.events)
        return bench.events / elapsed

    return measure


def publish_async_throughput(bench: Bench) -> Callable[[], Awaitable[float]]:
    async def measure() -> float:
        prefix = await bench.fresh_stream()
        started = time.perf_counter()
        acks = [
            await bench.js.publish_async(bus.subject(prefix, SOURCE, kind), data, headers=headers)
            for kind, data, headers in bench.messages
        ]
        await bench.js.publish_async_completed()
        elapsed = time.perf_counter() - started
        if failed := [ack.exception() for ack in acks if ack.exception() is not None]:
            raise AssertionError(f"{len(failed)} publishes failed: {failed[0]}")
        await bench.drop_stream(prefix, expected=bench.events)
        return bench.events / elapsed

    return measure


def windowed_publish_throughput(bench: Bench) -> Callable[[], Awaitable[float]]:
    async def measure() -> float:
        prefix = await bench.fresh_stream()
        window = asyncio.Semaphore(IN_FLIGHT)

        async def publish(kind: str, data: bytes, headers: dict[str, str]) -> None:
            async with window:
                await bench.js.publish(bus.subject(prefix, SOURCE, kind), data, headers=headers, timeout=5)

        started = time.perf_counter()
        await asyncio.gather(*(publish(*message) for message in bench.messages))
        elapsed = time.perf_counter() - started
        await bench.drop_stream(prefix, expected=bench.events)
        return bench.events / elapsed

    return measure


def _consumer_config(durable: str) -> ConsumerConfig:
    """The settings ``Consumer`` subscribes with."""
    return ConsumerConfig(
        durable_name=durable,
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL,
        ack_wait=30,
        max_deliver=-1,
        max_ack_pending=1000,
    )


def bare_pull_throughput(bench: Bench, prefix: str) -> Callable[[], Awaitable[float]]:
    async def measure() -> float:
        durable = f"bare-{bench.prefix()}"
        stream = bus.stream_name(prefix, SOURCE)
        started = time.perf_counter()
        subscription = await bench.js.pull_subscribe(
            bus.subject(prefix, SOURCE), durable=durable, stream=stream, config=_consumer_config(durable)
        )
        received = 0
        while received < bench.events:
            for msg in await subscription.fetch(100, timeout=1):
                await msg.ack()
                received += 1
        elapsed = time.perf_counter() - started
        await subscription.unsubscribe()
        await bench.js.delete_consumer(stream, durable)
        return bench.events / elapsed

    return measure


def inbox_throughput(bench: Bench, prefix: str, *, at_once: bool = False) -> Callable[[], Awaitable[float]]:
    async def measure() -> float:
        consumer = inbox_consumer(bench, prefix, at_once=at_once)
        started = time.perf_counter()
        task = asyncio.create_task(consumer.run())
        await consumer.handle(bench.events)
        elapsed = time.perf_counter() - started
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await bench.js.delete_consumer(consumer.stream, consumer.durable)
        return bench.events / elapsed

    return measure


async def raw_latency(bench: Bench, rate: int, seconds: float) -> list[float]:
    """Milliseconds from each message's scheduled publish to a bare pull consumer's confirmed ack of it.

    The baseline of ``steady_latency``, measured the same way: the same open-loop schedule, messages like the
    relay's (subject, data, every header, a new event id each), each published with ``js.publish``; the
    consumer fetches up to 100 at a time and acks each, the last with a request, as ``Consumer`` confirms its
    acks.
    """
    prefix = await bench.fresh_stream()
    [record] = await bench.ledger.read_all(limit=1)
    subject, data, template = (
        bus.subject(prefix, SOURCE, record.event_type),
        record.data.encode(),
        event_headers(record),
    )
    stream = bus.stream_name(prefix, SOURCE)
    subscription = await bench.js.pull_subscribe(
        bus.subject(prefix, SOURCE), durable="raw", stream=stream, config=_consumer_config("raw")
    )
    total = int(rate * seconds)
    due_of: dict[str, float] = {}
    acknowledged: list[float] = []

    async def consume() -> None:
        while len(acknowledged) < total:
            try:
                messages = await subscription.fetch(100, timeout=1)
            except TimeoutError:
                continue
            for msg in messages[:-1]:
                await msg.ack()
            await messages[-1].ack_sync()  # confirms the others too, sent before it
            now = time.perf_counter()
            acknowledged.extend((now - due_of[(msg.headers or {})[bus.EVENT_ID]]) * 1000 for msg in messages)

    consumer = asyncio.create_task(consume())
    publishes: list[asyncio.Task[object]] = []
    try:
        start = time.perf_counter() + 0.01
        for number in range(total):
            due = start + number / rate
            if (wait := due - time.perf_counter()) > 0:
                await asyncio.sleep(wait)
            event_id = str(new_id())
            due_of[event_id] = due
            headers = template | {bus.MSG_ID: event_id, bus.EVENT_ID: event_id}
            publishes.append(asyncio.create_task(bench.js.publish(subject, data, headers=headers, timeout=5)))
        await asyncio.gather(*publishes)
        await asyncio.wait_for(consumer, timeout=120)
    finally:
        consumer.cancel()
        await asyncio.gather(consumer, return_exceptions=True)
        await subscription.unsubscribe()
        await bench.js.delete_stream(stream)
    return acknowledged


async def steady_latency(bench: Bench, rate: int, seconds: float, *, notify: bool = True) -> Latency:
    """Append ``rate`` events a second on a schedule while a relay and a consumer run, woken as the runtime does.

    ``notify=False`` is a diagnostic: the store sends no NOTIFY after its commits and each append wakes the
    relay in-process instead.
    """
    prefix = await bench.fresh_stream()
    await bench.pool.execute(  # the relay starts after what is already stored
        f"INSERT INTO {SOURCE}.checkpoints (name, transaction_id, position) "
        f"SELECT 'relay', max(transaction_id::text::bigint), max(position) FROM {SOURCE}.events "
        "ON CONFLICT (name) DO UPDATE SET transaction_id = excluded.transaction_id, position = excluded.position"
    )
    relay = Relay(bench.ledger, bench.database_url, bench.js, prefix)
    consumer = inbox_consumer(bench, prefix)
    listener: asyncpg.Connection = await asyncpg.connect(bench.database_url)
    await listener.add_listener(bench.ledger.notify_channel, lambda *_: relay.wake())
    tasks = [asyncio.create_task(relay.run()), asyncio.create_task(consumer.run())]
    scheduled: dict[UUID, float] = {}
    appended: list[float] = []

    async def append(stream: str, due: float) -> None:
        result = await bench.ledger.append(stream, "account", 0, [OPENED], METADATA)
        appended.append(time.perf_counter() - due)
        if not notify:
            relay.wake()
        scheduled[result.event_ids[0]] = due

    try:
        if not notify:
            setattr(bench.ledger, "committed", lambda: None)  # noqa: B010 - an instance override, undone below
        for warm in range(50):  # the relay holds its lock, the consumer is subscribed
            await append(f"warm-{prefix}-{warm}", time.perf_counter())
        await consumer.handle(50)
        scheduled.clear()
        appended.clear()
        total = int(rate * seconds)
        start = time.perf_counter() + 0.01
        appends: list[asyncio.Task[None]] = []
        async with wait_sampling(bench.database_url, f"INSERT INTO {SOURCE}.events") as waits:
            for number in range(total):  # open loop: a slow append does not delay the next one
                due = start + number / rate
                if (wait := due - time.perf_counter()) > 0:
                    await asyncio.sleep(wait)
                appends.append(asyncio.create_task(append(f"steady-{prefix}-{number}", due)))
            await asyncio.gather(*appends)
        await asyncio.wait_for(consumer.handle(50 + total), timeout=120)
    finally:
        if not notify:
            delattr(bench.ledger, "committed")
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await listener.close()
        await bench.js.delete_stream(bus.stream_name(prefix, SOURCE))
    handled = [(consumer.handled_at[str(event_id)] - due) * 1000 for event_id, due in scheduled.items()]
    return Latency([a * 1000 for a in appended], handled, dict(waits))


@asynccontextmanager
async def bus_bench(url: str, nats_url: str, events: int) -> AsyncIterator[Bench]:
    """The ledger's and the audit's stores migrated in database ``url``, ``events`` ledger events seeded."""
    pool = await create_pool(url, size=20, application="gotong-bench")
    nats = await bus.connect(nats_url, name="gotong-bench")
    try:
        ledger = await ledger_store(pool)
        async with pool.acquire() as connection:
            await migrate(connection, "audit", audit_service.migrations)
        audit = EventStore(pool, "audit", audit_service.codec)
        bench = Bench(pool, url, nats, nats.jetstream(), ledger, audit, events)
        await seed(bench)
        yield bench
    finally:
        await nats.close()
        await pool.close()


async def run(rounds: int, events: int, rates: list[int], seconds: float, latency_runs: int) -> None:
    with bench_servers() as servers:
        async with scratch_database(servers.postgres_url) as url, bus_bench(url, servers.nats_url, events) as bench:
            gc.collect()
            gc.freeze()  # the benchmark's own objects (the messages above): out of every later collection
            where = "embedded PostgreSQL (durable) and NATS" if servers.embedded else "GOTONG_* servers"
            print(f"Bus — {machine()}; {where}; {events:,} events, {rounds} rounds, medians\n")
            print(await throughput_table(bench, rounds))
            bench.messages.clear()
            print(f"\nAppend → handled, {seconds:g} s runs at a steady rate\n")
            print(await latency_table(bench, rates, seconds, latency_runs))


async def throughput_table(bench: Bench, rounds: int) -> str:
    publish_async = publish_async_throughput(bench)
    windowed = windowed_publish_throughput(bench)
    relay = relay_throughput(bench)
    for warm_up in (publish_async, windowed, relay):
        await warm_up()
    published = await interleaved(rounds, [("async", publish_async), ("window", windowed), ("relay", relay)])

    source = await bench.fresh_stream()  # one stream of the N messages, read by both consumers
    await relay_all(bench, source)
    bare = bare_pull_throughput(bench, source)
    inbox = inbox_throughput(bench, source)
    at_once = inbox_throughput(bench, source, at_once=True)
    await bare()
    consumed = await interleaved(rounds, [("bare", bare), ("inbox", inbox), ("at once", at_once)])
    rows = [
        _row("relay", "js.publish_async + publish_async_completed()", published["async"], published["relay"], 0.5),
        _row("relay", f"concurrent js.publish, {IN_FLIGHT} in flight", published["window"], published["relay"], None),
        _row("consumer with inbox", "bare pull consumer (fetch 100, ack)", consumed["bare"], consumed["inbox"], 0.5),
        _row("… its handler taking a batch at once", "the same", consumed["bare"], consumed["at once"], 0.5),
    ]
    headers = ["subject", "baseline", "baseline events/s", "subject events/s", "subject/baseline", "rounds", "target"]
    headers.append("")
    return markdown_table(headers, rows)


def _row(name: str, baseline: str, base: list[float], subject: list[float], target: float | None) -> list[str]:
    per_round = ratios(subject, base)
    ratio = median(per_round)
    verdict = "" if target is None else ("met" if ratio >= target else "MISSED")
    goal = "" if target is None else f"≥ {target:.2f}"
    spread = f"{min(per_round):.2f}–{max(per_round):.2f}"
    return [name, baseline, f"{median(base):,.0f}", f"{median(subject):,.0f}", f"{ratio:.2f}", spread, goal, verdict]


async def latency_table(bench: Bench, rates: list[int], seconds: float, runs: int) -> str:
    """Runs at each rate, each paired with a run of the baseline (who goes first alternates); the targets
    (p99 under 50 ms, and at most 3× the baseline's) are for the first rate."""
    await steady_latency(bench, rates[0], 2)  # warm up
    await raw_latency(bench, rates[0], 2)
    rows: list[list[str]] = []
    p99s: list[float] = []
    p99_ratios: list[float] = []
    for rate in rates:
        for number in range(1, runs + 1):
            if number % 2:
                latency, raw = await steady_latency(bench, rate, seconds), await raw_latency(bench, rate, seconds)
            else:
                raw, latency = await raw_latency(bench, rate, seconds), await steady_latency(bench, rate, seconds)
            ratio = latency.handled(0.99) / percentile(raw, 0.99)
            if rate == rates[0]:
                p99s.append(latency.handled(0.99))
                p99_ratios.append(ratio)
            rows.append(_latency_row(f"{rate:,}/s, run {number}", latency, raw, ratio))
    diagnostic = await steady_latency(bench, rates[0], seconds, notify=False)
    rows.append(_latency_row(f"{rates[0]:,}/s, no NOTIFY after commit (diagnostic)", diagnostic, None, None))
    p99, ratio = median(p99s), median(p99_ratios)
    verdict = (
        f"At {rates[0]:,}/s: median p99 {p99:.1f} ms, target p99 < 50 ms {'met' if p99 < 50 else 'MISSED'}; "
        f"median p99 ratio to raw publish → consume {ratio:.1f}× ({min(p99_ratios):.1f}–{max(p99_ratios):.1f}), "
        f"target ≤ 3× {'met' if ratio <= 3 else 'MISSED'}"
    )
    headers = ["", "raw p50 ms", "raw p99 ms", "handled p50 ms", "handled p99 ms", "handled max ms", "p99/raw p99"]
    headers += ["appended p50 ms", "appended p99 ms", "appends waiting on NOTIFY's lock", "load after"]
    return markdown_table(headers, rows) + "\n\n" + verdict


def _latency_row(label: str, latency: Latency, raw: list[float] | None, ratio: float | None) -> list[str]:
    return [
        label,
        *(f"{percentile(raw, share):.1f}" if raw else "" for share in (0.5, 0.99)),
        *(f"{latency.handled(share):.1f}" for share in (0.5, 0.99, 1.0)),
        f"{ratio:.1f}×" if ratio is not None else "",
        *(f"{latency.appended(share):.1f}" for share in (0.5, 0.99)),
        f"{latency.notify_lock_share():.0%}",
        load(),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rates", default="1000,500", help="events a second in the latency runs; target at the first")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each latency run")
    parser.add_argument("--latency-runs", type=int, default=3)
    arguments = parser.parse_args()
    rates = [int(rate) for rate in arguments.rates.split(",")]
    asyncio.run(run(arguments.rounds, arguments.events, rates, arguments.seconds, arguments.latency_runs))


if __name__ == "__main__":
    main()
