"""Benchmark of reading an organisation's audit trail against a primary-key lookup, on a trail of a million entries.

    python bench/audit_trail.py            # 1,000,000 entries of 500 organisations, 300 timed reads of each kind
    python bench/audit_trail.py --quick    # 100,000 entries, 100 timed reads of each kind

Entries are generated (seeded) and loaded with COPY into accounts' ``audit_trail``, in a database of the
benchmark's own (on ``GOTONG_DATABASE_URL``'s server if set, else an embedded PostgreSQL). A fifth of them
belong to one large organisation, the rest spread over the others; each organisation has 20 actors and its
entries span 400 days. The reads are ``services.accounts.read.audit.trail_page``, what the route runs: the
first page (50 newest), a page deep in the trail (by the cursor of an entry half-way back), one actor's first
page, and the first page since a time 30 days back, each of a random organisation (the large one in half the
rounds); the baseline is one entry by its event id, in the same round on the same pool. It also times
pruning the entries older than 365 days.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from _servers import bench_servers, interleaved, machine, markdown_table, median, percentile, ratios, scratch_database

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from services.accounts.read.audit import NEWEST_FIRST, prune, trail_page
from services.accounts.read.tables import MIGRATIONS
from shared.migrations import migrate

ORGS = 500
ACTORS = 20
SPAN = timedelta(days=400)
NOW = datetime(2027, 6, 1, tzinfo=UTC)
COLUMNS = (
    "event_id", "org", "at", "service", "event_type", "stream_id", "stream_version", "actor", "correlation_id",
)  # fmt: skip
EVENT_TYPES = ("OrderRequested", "OrderConfirmed", "PoolOpened", "LotReceived", "MsmeRegistered", "ApiKeyCreated")


def org_of(rng: random.Random) -> str:
    return "big-trading-house" if rng.random() < 0.2 else f"org-{rng.randrange(ORGS):03d}"


def entries(count: int, rng: random.Random) -> list[tuple[object, ...]]:
    rows = []
    for _ in range(count):
        org = org_of(rng)
        at = NOW - SPAN * rng.random()
        service = rng.choice(("accounts", "catalog", "orders", "pooling", "quality"))
        rows.append(
            (
                uuid.UUID(int=rng.getrandbits(128), version=4),
                org,
                at,
                service,
                rng.choice(EVENT_TYPES),
                f"stream-{rng.randrange(count // 10 + 1)}",
                rng.randrange(1, 40),
                f"aggregator:{org}-user-{rng.randrange(ACTORS)}",
                f"corr-{rng.getrandbits(48):x}",
            )
        )
    return rows


async def load(pool: asyncpg.Pool, count: int, rng: random.Random) -> float:
    started = time.perf_counter()
    async with pool.acquire() as connection:
        await migrate(connection, "accounts", MIGRATIONS)
        for start in range(0, count, 100_000):
            batch = entries(min(100_000, count - start), rng)
            await connection.copy_records_to_table(
                "audit_trail", schema_name="accounts", records=batch, columns=COLUMNS
            )
        await connection.execute("ANALYZE accounts.audit_trail")
    return time.perf_counter() - started


def timed(read: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[float]]:
    async def measure() -> float:
        started = time.perf_counter()
        await read()
        return (time.perf_counter() - started) * 1000

    return measure


async def run(rounds: int, count: int) -> None:
    rng = random.Random(20270601)
    with bench_servers(nats=False) as servers:
        async with scratch_database(servers.postgres_url) as url:
            pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
            try:
                print(f"{machine()}\nloading {count:,} entries …", flush=True)
                loaded = await load(pool, count, rng)
                ids = [r["event_id"] for r in await pool.fetch("SELECT event_id FROM accounts.audit_trail LIMIT 2000")]
                pick = random.Random(7)

                def org() -> str:
                    return "big-trading-house" if pick.random() < 0.5 else f"org-{pick.randrange(ORGS):03d}"

                halfway = []  # (organisation, the cursor of its entry half-way back), found before timing
                for _ in range(50):
                    chosen = org()
                    middle = await pool.fetchrow(
                        "SELECT at, event_id FROM accounts.audit_trail WHERE org = $1 AND at < $2 "
                        "ORDER BY at DESC, event_id DESC LIMIT 1",
                        chosen,
                        NOW - SPAN / 2,
                    )
                    halfway.append((chosen, NEWEST_FIRST.encode((middle["at"], middle["event_id"]))))

                async def deep() -> object:
                    chosen, cursor = pick.choice(halfway)
                    return await trail_page(pool, chosen, limit=50, cursor=cursor, actor=None, since=None)

                kinds: list[tuple[str, Callable[[], Awaitable[float]]]] = [
                    ("lookup", timed(lambda: pool.fetchrow(
                        "SELECT * FROM accounts.audit_trail WHERE event_id = $1", pick.choice(ids)))),
                    ("first page", timed(lambda: trail_page(
                        pool, org(), limit=50, cursor=None, actor=None, since=None))),
                    ("half-way back", timed(deep)),
                    ("one actor", timed(lambda: (lambda o: trail_page(
                        pool, o, limit=50, cursor=None, actor=f"aggregator:{o}-user-{pick.randrange(ACTORS)}",
                        since=None))(org()))),
                    ("last 30 days", timed(lambda: trail_page(
                        pool, org(), limit=50, cursor=None, actor=None, since=NOW - timedelta(days=30)))),
                ]  # fmt: skip
                for _, measure in kinds:  # warm the caches
                    for _ in range(10):
                        await measure()
                results = await interleaved(rounds, kinds)
                baseline = results["lookup"]
                rows = [
                    [name, f"{median(ms):.2f}", f"{percentile(ms, 0.95):.2f}", f"{median(ratios(ms, baseline)):.1f}"]
                    for name, ms in results.items()
                ]
                print(f"\nloaded in {loaded:.1f} s; {rounds} rounds\n")
                print(markdown_table(["read", "median ms", "p95 ms", "× lookup"], rows))
                started = time.perf_counter()
                pruned = await prune(pool, NOW - timedelta(days=365))
                print(f"\npruned {pruned:,} entries older than 365 days in {time.perf_counter() - started:.1f} s")
            finally:
                await pool.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="100,000 entries, 100 rounds")
    parser.add_argument("--rounds", type=int)
    args = parser.parse_args()
    count, rounds = (100_000, 100) if args.quick else (1_000_000, 300)
    asyncio.run(run(args.rounds or rounds, count))


if __name__ == "__main__":
    main()
