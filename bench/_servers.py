"""What the benchmarks share: servers, a scratch database, interleaved rounds, and Markdown tables.

The servers are the embedded PostgreSQL (durable, as `gotong dev` runs it) and NATS JetStream, started in a
temporary directory, unless ``GOTONG_DATABASE_URL`` / ``GOTONG_NATS_URL`` name running ones.
"""

from __future__ import annotations

import asyncio
import os
import platform
import shutil
import statistics
import sys
import tempfile
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from shared.database import create_database, drop_database
from shared.kernel.ids import new_id


@dataclass(frozen=True)
class BenchServers:
    """Where the benchmark's PostgreSQL server and NATS are; ``embedded`` when this run started them."""

    postgres_url: str
    nats_url: str
    embedded: bool


@contextmanager
def bench_servers(*, nats: bool = True) -> Iterator[BenchServers]:
    """Start what ``GOTONG_DATABASE_URL`` / ``GOTONG_NATS_URL`` do not name; stop it all on exit."""
    from shared.dev import start_nats, start_postgres

    postgres_url = os.environ.get("GOTONG_DATABASE_URL") or ""
    nats_url = os.environ.get("GOTONG_NATS_URL") or ""
    base: Path | None = None
    stoppers: list[Callable[[], None]] = []
    try:
        if not postgres_url or (nats and not nats_url):
            base = Path(tempfile.mkdtemp(prefix="gotong-bench-", dir="/tmp"))
            base.chmod(0o755)  # the embedded PostgreSQL runs as an unprivileged user when we are root
        if not postgres_url:
            assert base is not None
            postgres = start_postgres(base / "postgres", durable=True)
            stoppers.append(postgres.stop)
            postgres_url = postgres.dsn
        if nats and not nats_url:
            assert base is not None
            server = start_nats(base / "nats")
            stoppers.append(server.stop)
            nats_url = server.url
        yield BenchServers(postgres_url, nats_url, embedded=bool(stoppers))
    finally:
        for stop in reversed(stoppers):
            with suppress(Exception):
                stop()
        if base is not None:
            shutil.rmtree(base, ignore_errors=True)


@asynccontextmanager
async def scratch_database(server_url: str) -> AsyncIterator[str]:
    """A fresh database on the server for one benchmark run, dropped afterwards."""
    name = f"gotong_bench_{new_id().hex}"
    url = await create_database(server_url, name)
    try:
        yield url
    finally:
        await drop_database(server_url, name)


@asynccontextmanager
async def wait_sampling(database_url: str, statement: str, every: float = 0.01) -> AsyncIterator[Counter[str]]:
    """Count what sessions running ``statement`` (a fragment of its text) wait on, sampled while the block runs."""
    samples: Counter[str] = Counter()
    connection = await asyncpg.connect(database_url)
    stop = asyncio.Event()

    async def sample() -> None:
        while not stop.is_set():
            rows = await connection.fetch(
                "SELECT coalesce(wait_event_type || ':' || wait_event, 'running') AS wait FROM pg_stat_activity "
                "WHERE state = 'active' AND pid <> pg_backend_pid() AND strpos(query, $1) > 0",
                statement,
            )
            samples.update(row["wait"] for row in rows)
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)

    task = asyncio.create_task(sample())
    try:
        yield samples
    finally:
        stop.set()
        await task
        await connection.close()


Measure = Callable[[], Awaitable[float]]


async def interleaved(rounds: int, contenders: Sequence[tuple[str, Measure]]) -> dict[str, list[float]]:
    """Run each contender once per round, rotating who goes first, so drifts in machine load hit all alike."""
    results: dict[str, list[float]] = {name: [] for name, _ in contenders}
    for number in range(rounds):
        shift = number % len(contenders)
        for name, measure in [*contenders[shift:], *contenders[:shift]]:
            results[name].append(await measure())
    return results


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def percentile(values: Sequence[float], share: float) -> float:
    """The value below which ``share`` of the values lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def ratios(subject: Sequence[float], baseline: Sequence[float]) -> list[float]:
    """Per-round ratios subject/baseline (rounds are paired, so load drifts cancel)."""
    return [s / b for s, b in zip(subject, baseline, strict=True)]


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table; columns after the first are right-aligned."""
    lines = ["| " + " | ".join(headers) + " |", "|---" + "|---:" * (len(headers) - 1) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def load() -> str:
    """The 1-minute load average: how busy the shared machine was."""
    return f"{os.getloadavg()[0]:.1f}"


def machine() -> str:
    """One line about where this ran."""
    return (
        f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}, {date.today().isoformat()}, load average {load()} at the start"
    )
