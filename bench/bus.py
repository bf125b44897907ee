"""Benchmark of the bus: the outbox relay and the inbox consumer against raw nats-py, and end-to-end latency.

    python bench/bus.py                 # 5 interleaved rounds
    python bench/bus.py --rounds 3      # quicker

Relay: N events are appended to the ledger's store beforehand; a ``Relay`` publishes them to a fresh
JetStream stream, against raw nats-py publishing the very same messages (subject, data, headers) to a
stream of the same kind: ``js.publish_async`` + ``publish_async_completed()``, and concurrent ``js.publish``
with the relay's in-flight window. Consumer: a ``Consumer`` whose handler writes one row (the audit
service's) against a bare pull consumer (fetch a batch, ack each) over the same N messages. Latency: one
event appended every millisecond for 10 s (then every 2 ms, for context), each in its own transaction on a
schedule, while the relay and a consumer run each in a process of its own, as they are deployed
(bench/_bus_roles.py), the relay woken by LISTEN/NOTIFY as the runtime wakes it; from each event's scheduled
time to its handler's commit and confirmed ack, with the consumer's handler taking events one at a time and a
batch at once, and where that time goes (append, relay, delivery, handling, ack). PostgreSQL's activity is
sampled meanwhile to show what the appends wait on. Each such run is paired with one of the baseline, in turns:
the same messages published raw (``js.publish`` on the same schedule) to a bare pull consumer in a process of its
own, from each one's scheduled time to its ack, confirmed as the consumer confirms its acks.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import msgspec
from _bus_setup import METADATA, OPENED, SOURCE, STAGES, Bench, Latency, bare_config, inbox_consumer, seed
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

from shared import bus
from shared.database import create_pool
from shared.eventstore import EventStore, RecordedEvent
from shared.kernel.ids import new_id
from shared.migrations import migrate
from shared.relay import Relay, event_headers
from tests.support.audit_service import audit_service
from tests.support.ledger import ledger_store

IN_FLIGHT = 256  # the relay's default window
WARM = 50  # events sent through before a latency run's schedule starts
BENCH = Path(__file__).resolve().parent


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


def bare_pull_throughput(bench: Bench, prefix: str) -> Callable[[], Awaitable[float]]:
    async def measure() -> float:
        durable = f"bare-{bench.prefix()}"
        stream = bus.stream_name(prefix, SOURCE)
        started = time.perf_counter()
        subscription = await bench.js.pull_subscribe(
            bus.subject(prefix, SOURCE), durable=durable, stream=stream, config=bare_config(durable)
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
    relay's (subject, data, every header, a new event id each), each published with ``js.publish`` from this
    process; the consumer, in a process of its own, fetches up to 100 at a time and acks each, the last with a
    request, as ``Consumer`` confirms its acks.
    """
    prefix = await bench.fresh_stream()
    [record] = await bench.ledger.read_all(limit=1)
    subject, data, template = (
        bus.subject(prefix, SOURCE, record.event_type),
        record.data.encode(),
        event_headers(record),
    )
    total = int(rate * seconds)
    due_of: dict[str, float] = {}

    async def publish(due: float | None) -> None:
        event_id = str(new_id())
        if due is not None:
            due_of[event_id] = due
        headers = template | {bus.MSG_ID: event_id, bus.EVENT_ID: event_id}
        await bench.js.publish(subject, data, headers=headers, timeout=5)

    try:
        async with role(bench, "bare", prefix, "raw", str(WARM), str(WARM + total)) as consumer:
            await consumer.expect("ready")
            await asyncio.gather(*(publish(None) for _ in range(WARM)))
            await consumer.expect("warm")
            await on_schedule(rate, total, publish)
            acknowledged = (await consumer.report())["handled"]
    finally:
        await bench.js.delete_stream(bus.stream_name(prefix, SOURCE))
    return [(acknowledged[event_id] - due) * 1000 for event_id, due in due_of.items()]


async def steady_latency(bench: Bench, rate: int, seconds: float, *, at_once: bool = False) -> Latency:
    """Append ``rate`` events a second on a schedule, each in its own transaction, while the ledger's relay and
    a consumer with its inbox run in processes of their own (bench/_bus_roles.py), the relay woken by the store's
    NOTIFY as the runtime wakes it; from each event's scheduled time to its handling's commit and confirmed ack.
    ``at_once``: the consumer's handler takes a fetched batch at once.
    """
    prefix = await bench.fresh_stream()
    await bench.pool.execute(  # the relay starts after what is already stored
        f"INSERT INTO {SOURCE}.checkpoints (name, transaction_id, position) "
        f"SELECT 'relay', max(transaction_id::text::bigint), max(position) FROM {SOURCE}.events "
        "ON CONFLICT (name) DO UPDATE SET transaction_id = excluded.transaction_id, position = excluded.position"
    )
    scheduled: dict[str, float] = {}
    committed: dict[str, float] = {}

    async def append(due: float) -> None:
        result = await bench.ledger.append(f"steady-{new_id().hex}", "account", 0, [OPENED], METADATA)
        committed[str(result.event_ids[0])] = time.perf_counter()
        scheduled[str(result.event_ids[0])] = due

    total = int(rate * seconds)
    arguments = [f"bench-{bench.prefix()}", str(WARM), str(WARM + total), *(["at-once"] if at_once else [])]
    try:
        async with (
            role(bench, "relay", prefix) as relay,
            role(bench, "consumer", prefix, *arguments) as consumer,
        ):
            await relay.expect("ready")
            for _ in range(WARM):  # the relay holds its lock, the consumer is subscribed
                await append(time.perf_counter())
            await consumer.expect("warm")
            scheduled.clear()
            async with wait_sampling(bench.database_url, f"INSERT INTO {SOURCE}.events") as waits:
                await on_schedule(rate, total, append)
            times = await consumer.report()
            relay.process.terminate()
            published = (await relay.report())["published"]
    finally:
        await bench.js.delete_stream(bus.stream_name(prefix, SOURCE))
    way = [scheduled, committed, published, times["fetched"], times["committed"], times["handled"]]
    stages = {
        name: [(later[event] - earlier[event]) * 1000 for event in scheduled]
        for name, earlier, later in zip(STAGES, way, way[1:], strict=False)
    }
    handled = [(times["handled"][event] - due) * 1000 for event, due in scheduled.items()]
    return Latency(stages["append"], handled, dict(waits), stages)


async def on_schedule(rate: int, total: int, send: Callable[[float], Coroutine[Any, Any, None]]) -> None:
    """``total`` sends, ``rate`` a second, open loop: a slow one does not delay the next."""
    start = time.perf_counter() + 0.01
    sends: list[asyncio.Task[None]] = []
    for number in range(total):
        due = start + number / rate
        if (wait := due - time.perf_counter()) > 0:
            await asyncio.sleep(wait)
        sends.append(asyncio.create_task(send(due)))
    await asyncio.gather(*sends)


class Role:
    """A part of a latency run in its own process (bench/_bus_roles.py), and what it prints."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    async def expect(self, line: str, timeout: float = 60) -> None:
        said = await self._line(timeout)
        if said != line:
            raise AssertionError(f"bench/_bus_roles.py said {said!r}, not {line!r}")

    async def report(self, timeout: float = 120) -> dict[str, dict[str, float]]:
        """When each event reached what the process watches, by what it watches."""
        times: dict[str, dict[str, float]] = msgspec.json.decode(await self._line(timeout))
        return times

    async def _line(self, timeout: float) -> str:
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), timeout)
        if not line:
            raise AssertionError(f"bench/_bus_roles.py ended ({await self.process.wait()}) before saying anything")
        return line.decode().strip()


@asynccontextmanager
async def role(bench: Bench, name: str, prefix: str, *arguments: str) -> AsyncIterator[Role]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(BENCH / "_bus_roles.py"),
        name,
        bench.database_url,
        bench.nats_url,
        prefix,
        *arguments,
        stdout=asyncio.subprocess.PIPE,
        limit=2**26,  # the report is one line of every event's time
    )
    try:
        yield Role(process)
    finally:
        if process.returncode is None:
            process.terminate()
        await process.wait()


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
        bench = Bench(pool, url, nats_url, nats, nats.jetstream(), ledger, audit, events)
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


HANDLERS = {"one at a time": False, "a batch at once": True}  # the consumer's handler: ``at_once``


async def latency_table(bench: Bench, rates: list[int], seconds: float, runs: int) -> str:
    """Runs at each rate of the consumer with each handler and of the baseline, in turns (who goes first rotates);
    the targets (p99 under 50 ms, and at most 3× the baseline's) are for the first rate."""
    await steady_latency(bench, rates[0], 2)  # warm up
    await raw_latency(bench, rates[0], 2)
    rows: list[list[str]] = []
    stage_rows: list[list[str]] = []
    p99s: dict[str, list[float]] = {handler: [] for handler in HANDLERS}
    p99_ratios: dict[str, list[float]] = {handler: [] for handler in HANDLERS}
    for rate in rates:
        for number in range(1, runs + 1):
            measured: dict[str, Latency] = {}
            raw: list[float] = []
            turns = ["raw", *HANDLERS]
            for turn in turns[number % 3 :] + turns[: number % 3]:
                if turn == "raw":
                    raw = await raw_latency(bench, rate, seconds)
                else:
                    measured[turn] = await steady_latency(bench, rate, seconds, at_once=HANDLERS[turn])
            for handler, latency in measured.items():
                ratio = latency.handled(0.99) / percentile(raw, 0.99)
                if rate == rates[0]:
                    p99s[handler].append(latency.handled(0.99))
                    p99_ratios[handler].append(ratio)
                label = f"{rate:,}/s, run {number}, {handler}"
                rows.append(_latency_row(label, latency, raw, ratio))
                spread = (f"{latency.stage(stage, 0.5):.1f} · {latency.stage(stage, 0.99):.1f}" for stage in STAGES)
                stage_rows.append([label, *spread])
    verdicts = []
    for handler in HANDLERS:
        p99, ratio, ratios_seen = median(p99s[handler]), median(p99_ratios[handler]), p99_ratios[handler]
        verdicts.append(
            f"At {rates[0]:,}/s, handler taking events {handler}: median p99 {p99:.1f} ms, target p99 < 50 ms "
            f"{'met' if p99 < 50 else 'MISSED'}; median p99 ratio to raw publish → consume {ratio:.1f}× "
            f"({min(ratios_seen):.1f}–{max(ratios_seen):.1f}), target ≤ 3× {'met' if ratio <= 3 else 'MISSED'}"
        )
    headers = ["", "raw p50 ms", "raw p99 ms", "handled p50 ms", "handled p99 ms", "handled max ms", "p99/raw p99"]
    headers += ["appended p50 ms", "appended p99 ms", "appends waiting on NOTIFY's lock", "load after"]
    stages = markdown_table(["p50 · p99 ms", *STAGES.values()], stage_rows)
    return f"{markdown_table(headers, rows)}\n\n" + "\n".join(verdicts) + f"\n\nWhere the time goes\n\n{stages}"


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
