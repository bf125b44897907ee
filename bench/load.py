"""End-to-end load benchmark: Gotong's seven services as `gotong serve` processes on one PostgreSQL and one NATS,
a generated marketplace, a mixed workload over HTTP, and baselines measured in the same run.

    python bench/load.py --quick              # CI size, under a minute; fails on any error
    python bench/load.py                      # 50,000 MSMEs, 500,000 products (the bulk takes a long while)
    python bench/load.py --scale national     # 500,000 MSMEs, 5 M products
    python bench/load.py --msmes 5000         # any size between
    python bench/load.py --quick --replicas 2     # two processes of each service, checked
    python bench/load.py --quick --replicas 1,2   # one run with one of each, then one with two

1. Bulk: MSMEs and their products (registered, NIB and SKUs claimed, listed, capacity declared) are appended
   straight to catalog's event store (``append_many``, 50 MSMEs a transaction, 4 at a time; each MSME's events
   on its own audit trail, as its import through the API would be) while the services run; then the time until
   catalog's projections, its relay and every consumer of its events (accounts' audit trail, notifications,
   orders, pooling, quality) have caught up: the projection and consumer throughput.
2. Setup over HTTP: for each market a standard, weavers (registered, product listed, capacity declared,
   first-article inspection passed) and a pool.
3. Mixed workload, all at once: every market's buyer places and confirms an order into its pool, the
   aggregator allocates, every asked weaver answers at the same moment (85 % accept, 10 % part, 5 % decline,
   which re-allocates), accepted units are delivered as lots and judged; meanwhile a stream of buyers places,
   has quoted and confirms small orders, and readers search the catalog and read orders' progress. Reported:
   each operation's throughput and latency, errors, command → effect lags across services, relay and
   projection lag (sampled from /metrics), CPU and memory of each process, PostgreSQL size per 1,000 orders.
4. Baselines: see ``_load_baselines``.

With ``--replicas N`` each service runs as N processes on the same database and NATS (as a deployment with
replicas runs them), each request goes to the next replica of its service in turn, and after the workload the
run waits until nothing is left to relay or consume (the catch-up time), prints what each replica's consumers
handled, and checks (bench/_load_replicas.py): one active relay per service at every sample of /metrics, each
event handled once by each consumer, no handler's effect recorded twice. The baselines belong to the run
without ``--replicas`` and are left out.

The exit status is 1 when any request failed or any effect did not arrive, or a replica check failed: timings
never fail it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from _load_baselines import baselines
from _load_market import Recorder, Story, TimedGotong, append_bulk, background_reads, order_stream, prepare, run_story
from _load_replicas import RelaySamples, Settled, replica_names, round_robin, settle
from _servers import bench_servers, load, machine, markdown_table, percentile, scratch_database

from events.catalog import CODEC as CATALOG_CODEC
from shared.config import Settings
from shared.database import create_pool
from shared.dev.servers import migrate_all
from shared.eventstore import EventStore
from shared.kernel.ids import new_id
from tests.e2e.market import Market
from tests.e2e.processes import READY_TIMEOUT, GotongProcess, gotong_env, start, stop, wait_ready
from tests.support.app import SECRET

SERVICES = ("accounts", "catalog", "notifications", "orders", "pooling", "quality", "webhooks")
CATALOG_CONSUMERS = ("accounts", "notifications", "orders", "pooling", "quality")
TICK = os.sysconf("SC_CLK_TCK")
ORDER_TABLES = ("events", "orders", "order_lines_progress", "line_requests", "order_timeline", "lots", "lot_lines")


@dataclass(frozen=True)
class Scale:
    msmes: int
    products: int  # per MSME
    markets: int
    weavers: int  # per market
    hot: int  # weavers of the one hot pool (0: none)
    orders: int  # the stream of small orders
    readers: int


SCALES = {
    "quick": Scale(msmes=40, products=10, markets=2, weavers=6, hot=12, orders=10, readers=2),
    "default": Scale(msmes=50_000, products=10, markets=4, weavers=100, hot=500, orders=400, readers=4),
    "national": Scale(msmes=500_000, products=10, markets=8, weavers=250, hot=500, orders=2_000, readers=8),
}


# --- what the processes tell ---


def parse_metrics(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Prometheus' text format: each sample's labels and value, by metric name."""
    samples: dict[str, list[tuple[dict[str, str], float]]] = defaultdict(list)
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        head, _, value = line.rpartition(" ")
        name, _, labels = head.partition("{")
        pairs = dict(p.split("=", 1) for p in labels.rstrip("}").split(",") if "=" in p) if labels else {}
        samples[name].append(({k: v.strip('"') for k, v in pairs.items()}, float(value)))
    return samples


@dataclass
class Lags:
    """Relay lag (seconds) and projection lag (events) of each service, sampled through the workload."""

    relay: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    projection: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    pending: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))


async def scrape(client: httpx.AsyncClient, processes: list[GotongProcess]) -> dict[str, dict[str, list[Any]]]:
    texts = await asyncio.gather(*(_metrics_text(client, p) for p in processes))
    return {p.name: parse_metrics(text) for p, text in zip(processes, texts, strict=True)}


async def _metrics_text(client: httpx.AsyncClient, served: GotongProcess, tries: int = 3) -> str:
    """One process's /metrics, asked again when the connection breaks (on a machine this busy a kept-alive
    connection is now and then closed under a request): a lost scrape is not the service's failure."""
    for _ in range(tries - 1):
        with contextlib.suppress(httpx.TransportError):
            return (await client.get(f"{served.url}/metrics")).text
    return (await client.get(f"{served.url}/metrics")).text


async def sample_lags(
    client: httpx.AsyncClient, processes: list[GotongProcess], lags: Lags, stop: asyncio.Event
) -> None:
    while not stop.is_set():
        try:
            scraped = await scrape(client, processes)
        except httpx.TransportError:  # a connection dropped under load: one sample is lost, not the run
            await asyncio.sleep(0.5)
            continue
        for name, metrics in scraped.items():
            for labels, value in metrics.get("gotong_relay_lag_seconds", []):
                lags.relay[labels["service"]].append(value)
            worst = max((v for _, v in metrics.get("gotong_projection_lag_events", [])), default=0.0)
            lags.projection[name].append(worst)
            pending = sum(v for _, v in metrics.get("gotong_consumer_pending_messages", []))
            lags.pending[name].append(pending)
        await asyncio.sleep(0.5)


async def behind(client: httpx.AsyncClient, processes: list[GotongProcess]) -> tuple[list[str], list[str], list[str]]:
    """What of catalog's projections, of its relay, and of the consumers of its events is not caught up."""
    metrics = await scrape(client, processes)
    catalog = metrics["catalog"]
    projecting, relaying = (
        [f"{name} {labels} {value:g}" for labels, value in catalog.get(name, []) if value]
        for name in ("gotong_projection_lag_events", "gotong_relay_lag_seconds")
    )
    consuming = [
        f"{service} {labels['consumer']} {metric} {value:g}"
        for service in CATALOG_CONSUMERS
        for metric in ("gotong_consumer_pending_messages", "gotong_consumer_unacknowledged_messages")
        for labels, value in metrics[service].get(metric, [])
        if value and labels["consumer"].endswith(("-catalog", "-msme-owners"))
    ]
    return projecting, relaying, consuming


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


# --- the run ---


@dataclass
class Outcome:
    """One run: its exit status and, with replicas, what they came to (None without)."""

    status: int
    settled: Settled | None = None
    workload: float = 0.0  # seconds


async def run(scale: Scale, quick: bool, timeout: float, replicas: int | None = None) -> Outcome:
    """One run; ``replicas``: processes of each service, checked (None: one each, unchecked, with baselines)."""
    recorder = Recorder()
    with bench_servers() as servers, tempfile.TemporaryDirectory(prefix="gotong-load-") as logs:
        async with scratch_database(servers.postgres_url) as url:
            settings = replace(Settings(), database_url=url, nats_url=servers.nats_url)
            await migrate_all(settings)
            env = gotong_env(
                {
                    "GOTONG_DATABASE_URL": url,
                    "GOTONG_NATS_URL": servers.nats_url,
                    "GOTONG_NATS_PREFIX": f"load{new_id().hex[-8:]}",
                    "GOTONG_JWT_SECRET": SECRET,
                    "GOTONG_POOL_SIZE": "10",
                }
            )
            deployment = {name: replica_names(name, replicas or 1) for name in SERVICES}
            processes = [
                start(process, ["serve", name], env, Path(logs)) for name in SERVICES for process in deployment[name]
            ]
            try:
                began = time.perf_counter()
                await wait_ready(processes, READY_TIMEOUT * (replicas or 1))  # they all import at once
                print(f"Load — {machine()}")
                print(f"{len(processes)} `gotong serve` processes ready in {time.perf_counter() - began:.1f} s\n")
                checked = deployment if replicas else None
                return await _measure(scale, quick, timeout, url, servers.nats_url, processes, recorder, checked)
            except Exception:
                _print_outputs(processes)
                raise
            finally:
                stop(processes)


def _print_outputs(processes: list[GotongProcess]) -> None:
    """The end of each process's output, for a run that failed."""
    for served in processes:
        print(f"--- {served.name} ---\n{served.output(15)}", file=sys.stderr)


async def _measure(
    scale: Scale,
    quick: bool,
    timeout: float,
    url: str,
    nats_url: str,
    processes: list[GotongProcess],
    recorder: Recorder,
    checked: dict[str, list[str]] | None,
) -> Outcome:
    """``checked``: each service's processes by name, when the replicas are to be checked (no baselines then)."""
    # idle connections dropped well before uvicorn's 5 s keep-alive ends them, so no request races the close
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200, keepalive_expiry=2.0)
    if checked is not None:
        # none kept at all: with twice the processes on a loaded machine the client's loop fell seconds behind,
        # reused a connection the server was closing, and counted the ReadError as a failed request
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=0)
    firsts = [p for p in processes if p.name in SERVICES]  # one of each service, named after it
    settled: Settled | None = None
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        pool = await create_pool(url, size=8, application="gotong-load")
        relays, stop_relays = RelaySamples(), asyncio.Event()
        sampling: asyncio.Task[None] | None = None
        try:
            if checked is not None:
                await relays.first_active(lambda: scrape(client, processes), SERVICES, timeout)
                sampling = asyncio.create_task(relays.sample(lambda: scrape(client, processes), stop_relays))
            await _bulk(scale, pool, client, firsts, timeout)
            urls = {p.name: p.url for p in firsts}
            turns = round_robin(
                {name: [p.url for p in processes if p.name in names] for name, names in (checked or {}).items()}
            )
            gotong = TimedGotong.timed(client, urls, recorder, turns)
            cpu_before = {p.name: cpu_seconds(p.process.pid) for p in processes}
            known: list[tuple[str, dict[str, str]]] = []
            played: list[tuple[Story, Any]] = []
            failed = await _workload(scale, gotong, client, processes, recorder, timeout, known, played)
            if checked is not None and not failed:
                settled = await settle(lambda: scrape(client, processes), pool, checked, relays, played, timeout)
            wall = recorder.workload_seconds
            _resources(processes, cpu_before, wall)
            await _storage(pool)
            if not failed and known and checked is None:
                print(await baselines(url, nats_url, firsts, client, known[0], quick=quick))
        finally:
            stop_relays.set()
            if sampling is not None:
                await asyncio.gather(sampling, return_exceptions=True)  # its samples are checked already
            await pool.close()
    violations = settled.violations if settled else []
    if recorder.errors or failed or violations:
        print(f"\nFAILED: {sum(recorder.errors.values())} errors; {failed or ''}", file=sys.stderr)
        for operation, example in recorder.examples.items():
            print(f"  {operation}: {example}", file=sys.stderr)
        for violation in violations:
            print(f"  {violation}", file=sys.stderr)
        _print_outputs(processes)
        return Outcome(1, settled, recorder.workload_seconds)
    return Outcome(0, settled, recorder.workload_seconds)


async def _bulk(
    scale: Scale, pool: asyncpg.Pool, client: httpx.AsyncClient, processes: list[GotongProcess], timeout: float
) -> None:
    store = EventStore(pool, "catalog", CATALOG_CODEC)
    started = time.perf_counter()
    events = await append_bulk(store, scale.msmes, scale.products)
    appended = time.perf_counter()
    store.committed()
    projected_at = relayed_at = consumed_at = 0.0
    deadline = appended + max(timeout, events / 200)
    while not (projected_at and relayed_at and consumed_at):
        projecting, relaying, consuming = await behind(client, processes)
        now = time.perf_counter()
        projected_at = projected_at or (now if not projecting else 0.0)
        relayed_at = relayed_at or (now if projected_at and not relaying else 0.0)
        consumed_at = consumed_at or (now if relayed_at and not consuming else 0.0)
        if now > deadline:
            late = "; ".join([*projecting, *relaying, *consuming])
            raise AssertionError(f"the bulk's {events:,} events not caught up in {now - appended:.0f} s: {late}")
        await asyncio.sleep(0.25)
    products = scale.msmes * scale.products
    print(f"Bulk: {scale.msmes:,} MSMEs, {products:,} products, {events:,} catalog events\n")
    rows = [
        [what, f"{at - started:.1f}", f"{events / (at - started):,.0f}"]
        for what, at in (
            ("appended to catalog's store (append_many)", appended),
            ("… and projected by catalog", projected_at),
            ("… and relayed to NATS", relayed_at),
            (f"… and handled by {len(CATALOG_CONSUMERS)} consumers each", consumed_at),
        )
    ]
    print(markdown_table(["from the first append until", "s", "events/s"], rows) + "\n")


async def _workload(
    scale: Scale,
    gotong: TimedGotong,
    client: httpx.AsyncClient,
    processes: list[GotongProcess],
    recorder: Recorder,
    timeout: float,
    known_orders: list[tuple[str, dict[str, str]]],
    played: list[tuple[Story, Any]],
) -> str:
    """The setup and the mixed workload; what failed (empty: nothing). ``played``: each market and how it went."""
    started = time.perf_counter()
    sizes = [scale.weavers] * scale.markets + ([scale.hot] if scale.hot else [])
    stories: list[Story] = []
    for size in sizes:  # one market after another: many weavers each, onboarded 16 at a time
        stories.append(await prepare(gotong, size, monthly=300, concurrency=16))
    orders_standard = await Market(gotong).standard()
    weavers = sum(sizes)
    print(f"Setup over HTTP: {len(sizes)} markets, {weavers:,} weavers, in {time.perf_counter() - started:.1f} s\n")
    recorder.latencies.clear()

    lags, stop_sampling, stop_reading = Lags(), asyncio.Event(), asyncio.Event()
    sampler = asyncio.create_task(sample_lags(client, processes, lags, stop_sampling))
    readers = [
        asyncio.create_task(background_reads(gotong, stories, known_orders, stop_reading)) for _ in range(scale.readers)
    ]
    began = time.perf_counter()
    rng = random.Random(1)
    outcome = await asyncio.gather(
        *(run_story(story, recorder, timeout, random.Random(rng.random())) for story in stories),
        _orders(gotong, orders_standard, scale.orders, known_orders),
        return_exceptions=True,
    )
    recorder.workload_seconds = time.perf_counter() - began
    stop_reading.set()
    stop_sampling.set()
    reads = await asyncio.gather(*readers, return_exceptions=True)
    await sampler
    failures = [repr(o) for o in [*outcome, *reads] if isinstance(o, BaseException)]
    played.extend(zip(stories, outcome[: len(stories)], strict=True))
    _report_workload(stories, outcome[: len(stories)], recorder, lags)
    return "; ".join(failures)


async def _orders(gotong: TimedGotong, standard: str, count: int, known: list[tuple[str, dict[str, str]]]) -> None:
    known.extend(await order_stream(gotong, standard, count, concurrency=8))


def _report_workload(stories: list[Story], outcome: list[Any], recorder: Recorder, lags: Lags) -> None:
    seconds = recorder.workload_seconds
    print(f"Mixed workload: {seconds:.1f} s, load average {load()} after\n")
    rows = []
    for operation in sorted(recorder.latencies, key=lambda o: -len(recorder.latencies[o])):
        count, rate, p50, p95, p99 = recorder.summary(operation, seconds)
        rows.append([f"`{operation}`", f"{count:,}", f"{rate:,.1f}", f"{p50:.1f}", f"{p95:.1f}", f"{p99:.1f}"])
        rows[-1].append(str(recorder.errors.get(operation, 0)))
    print(markdown_table(["operation", "requests", "per s", "p50 ms", "p95 ms", "p99 ms", "errors"], rows) + "\n")

    rows = []
    for what, values in recorder.lags.items():
        ms = [1000 * v for v in values]
        rows.append([what, f"{len(ms):,}", f"{percentile(ms, 0.5):.0f}", f"{percentile(ms, 0.99):.0f}"])
    print(markdown_table(["command → effect in another service", "samples", "p50 ms", "p99 ms"], rows) + "\n")

    rows = []
    for story, answers in zip(stories, outcome, strict=True):
        if isinstance(answers, BaseException):
            continue
        answered = answers.accepted + answers.declines
        rows.append(
            [f"{len(story.weavers):,} weavers", f"{answered:,}", f"{answers.accepted:,} ({answers.parts} part)",
             f"{answers.declines}", f"{answers.seconds:.2f}", f"{answered / max(answers.seconds, 1e-9):,.1f}"]
        )  # fmt: skip
    headers = ["pool", "answers", "accepts", "declines", "all answered in s", "answers/s"]
    print(markdown_table(headers, rows) + "\n")

    rows = []
    for service in sorted(set(lags.relay) | set(lags.projection)):
        relay, projection, pending = lags.relay[service], lags.projection[service], lags.pending[service]
        rows.append(
            [service, f"{percentile(relay, 0.5):.2f}" if relay else "–", f"{max(relay, default=0):.2f}",
             f"{percentile(projection, 0.5):.0f}" if projection else "–", f"{max(projection, default=0):.0f}",
             f"{max(pending, default=0):.0f}"]
        )  # fmt: skip
    headers = [
        "service",
        "relay lag p50 s",
        "relay lag max s",
        "projection lag p50 events",
        "max",
        "consumers' max pending",
    ]
    print(markdown_table(headers, rows) + "\n")


def _resources(processes: list[GotongProcess], before: dict[str, float], seconds: float) -> None:
    rows = []
    for served in processes:
        used = cpu_seconds(served.process.pid) - before[served.name]
        rows.append([served.name, f"{used:.1f}", f"{100 * used / seconds:.0f} %", f"{rss_mb(served.process.pid):.0f}"])
    print(markdown_table(["process", "CPU s in the workload", "of one core", "RSS MB after"], rows) + "\n")


async def _storage(pool: asyncpg.Pool) -> None:
    orders = await pool.fetchval("SELECT count(*) FROM orders.orders")
    rows = []
    for schema in SERVICES:
        size = await pool.fetchval(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind IN ('r', 'm')",
            schema,
        )
        rows.append([schema, f"{size / 2**20:,.1f}"])
    database = await pool.fetchval("SELECT pg_database_size(current_database())")
    per_order = await pool.fetchval(  # what grows with orders: orders' own events and read models of them
        "SELECT sum(pg_total_relation_size(('orders.' || t)::regclass)) FROM unnest($1::text[]) AS t",
        list(ORDER_TABLES),
    )
    rows.append(["whole database", f"{database / 2**20:,.1f}"])
    print(markdown_table(["PostgreSQL, schema", "MB"], rows))
    per_1000 = per_order / max(orders, 1) * 1000 / 2**20
    print(f"\n{orders:,} orders; orders' events and order tables: {per_1000:,.1f} MB per 1,000 orders (small orders,")
    print("PostgreSQL's minimum of one 8 kB page per table and index dominates at this count)\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="CI size (under a minute)")
    parser.add_argument("--scale", choices=sorted(SCALES), default="default")
    parser.add_argument("--msmes", type=int, help="MSMEs in the bulk (overrides the scale's)")
    parser.add_argument("--hot", type=int, help="weavers of the hot pool (overrides the scale's)")
    parser.add_argument("--markets", type=int, help="markets besides the hot pool (overrides the scale's)")
    parser.add_argument("--weavers", type=int, help="weavers of each of those markets (overrides the scale's)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds any one effect may take to arrive")
    parser.add_argument(
        "--replicas",
        type=lambda text: [int(n) for n in text.split(",")],
        help="processes of each service, checked; several (1,2) run one after another and are compared",
    )
    arguments = parser.parse_args()
    scale = SCALES["quick" if arguments.quick else arguments.scale]
    if arguments.msmes is not None:
        scale = replace(scale, msmes=arguments.msmes)
    for name in ("hot", "markets", "weavers"):
        if (value := getattr(arguments, name)) is not None:
            scale = replace(scale, **{name: value})
    if arguments.replicas is None:
        sys.exit(asyncio.run(run(scale, arguments.quick, arguments.timeout)).status)
    outcomes = [(n, asyncio.run(run(scale, arguments.quick, arguments.timeout, n))) for n in arguments.replicas]
    if len(outcomes) > 1:
        print(_compared(outcomes))
    sys.exit(max(outcome.status for _, outcome in outcomes))


def _compared(outcomes: list[tuple[int, Outcome]]) -> str:
    rows = []
    for replicas, outcome in outcomes:
        settled = outcome.settled
        caught_up, violations = (f"{settled.catch_up:.1f}", str(len(settled.violations))) if settled else ("–", "–")
        rows.append(
            [str(replicas), f"{outcome.workload:.1f}", caught_up, violations, "failed" if outcome.status else "ok"]
        )
    headers = ["replicas of each service", "mixed workload s", "caught up after it, s", "violations", "run"]
    return "Compared\n\n" + markdown_table(headers, rows) + "\n"


if __name__ == "__main__":
    main()
