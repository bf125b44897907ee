"""Benchmark of the event store's appends against raw asyncpg inserts into a table just like it.

    python bench/event_store.py              # 7 interleaved rounds
    python bench/event_store.py --rounds 3   # quicker

Single events: ``EventStore.append`` of one event with command metadata (one append in ten opens a new
stream, the others extend one), against a plain one-row ``INSERT`` in a transaction via ``conn.execute`` on a
pooled connection. Batches: ``append`` of 100 events to a new stream, against ``executemany`` of 100 rows.
The raw table has the same columns, keys and indexes as the store's ``events`` table (but no NOTIFY
trigger); the raw rows carry the same JSON, encoded beforehand. Each case runs with 1 and with 8 concurrent
clients; in every round the baseline and the store run back to back, taking turns to go first, and the
table reports medians over the rounds. For single events a third contender, the store with its NOTIFY
trigger switched off, shows what that trigger costs (PostgreSQL serialises the commits of notifying
transactions).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg
import msgspec
from _servers import bench_servers, interleaved, machine, markdown_table, median, ratios, scratch_database

from events.base import Event
from shared.database import create_pool
from shared.eventstore import EventStore, Metadata
from shared.kernel.ids import new_id
from tests.support.ledger import CODEC, Deposited, Opened, ledger_store

BATCH = 100
STREAM_LENGTH = 10  # single appends: a new stream every tenth event
RAW_TABLE = "bench_raw.events"
RAW_INSERT = (
    f"INSERT INTO {RAW_TABLE} (event_id, stream_id, stream_type, stream_version, event_type, schema_version,"
    " data, metadata) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
)
OPENED = Opened(owner="org-1/Koperasi Kopi Gayo")
DEPOSITED = Deposited(amount=125_000, note="advance for pooled order")
METADATA = Metadata(correlation_id=str(new_id()), actor="aggregator:user-1", command_id=str(new_id()))
METADATA_JSON = msgspec.json.encode(METADATA).decode()


def raw_columns(event: Event) -> tuple[str, int, str, str]:
    """A raw row's event type, schema version, data and metadata, encoded once."""
    name, schema_version = CODEC.name_of(event)
    return name, schema_version, CODEC.encode(event).decode(), METADATA_JSON


RAW_OPENED = raw_columns(OPENED)
RAW_DEPOSITED = raw_columns(DEPOSITED)


async def create_raw_table(pool: asyncpg.Pool) -> None:
    """The baseline's table: the store's columns, keys and indexes."""
    await pool.execute("CREATE SCHEMA IF NOT EXISTS bench_raw")
    await pool.execute(
        f"""CREATE TABLE {RAW_TABLE} (
            position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
            event_id uuid NOT NULL,
            stream_id text NOT NULL,
            stream_type text NOT NULL,
            stream_version integer NOT NULL,
            event_type text NOT NULL,
            schema_version integer NOT NULL,
            data jsonb NOT NULL,
            metadata jsonb NOT NULL,
            recorded_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (stream_id, stream_version))"""
    )
    await pool.execute(f"CREATE INDEX ON {RAW_TABLE} (transaction_id, position)")


Operation = Callable[[str, int], Awaitable[None]]


@dataclass
class Appends:
    """The four ways of appending, each one operation of a client named ``client``."""

    pool: asyncpg.Pool
    store: EventStore

    async def store_single(self, client: str, op: int) -> None:
        version = op % STREAM_LENGTH
        event = DEPOSITED if version else OPENED
        await self.store.append(f"{client}-{op // STREAM_LENGTH}", "account", version, [event], METADATA)

    async def raw_single(self, client: str, op: int) -> None:
        version = op % STREAM_LENGTH
        columns = RAW_DEPOSITED if version else RAW_OPENED
        stream = f"{client}-{op // STREAM_LENGTH}"
        async with self.pool.acquire() as connection, connection.transaction():
            await connection.execute(RAW_INSERT, new_id(), stream, "account", version + 1, *columns)

    async def store_batch(self, client: str, op: int) -> None:
        await self.store.append(f"{client}-{op}", "account", 0, [OPENED, *[DEPOSITED] * (BATCH - 1)], METADATA)

    async def raw_batch(self, client: str, op: int) -> None:
        stream = f"{client}-{op}"
        rows = [(new_id(), stream, "account", 1, *RAW_OPENED)]
        rows += [(new_id(), stream, "account", version, *RAW_DEPOSITED) for version in range(2, BATCH + 1)]
        async with self.pool.acquire() as connection:
            await connection.executemany(RAW_INSERT, rows)


def throughput(operation: Operation, clients: int, ops: int, events_per_op: int) -> Callable[[], Awaitable[float]]:
    """A measurement: events per second of ``clients`` concurrent clients running ``operation`` ``ops`` times."""

    async def measure() -> float:
        run = new_id().hex[-10:]

        async def client(number: int) -> None:
            for op in range(ops):
                await operation(f"{run}-c{number}", op)

        started = time.perf_counter()
        await asyncio.gather(*(client(n) for n in range(clients)))
        return clients * ops * events_per_op / (time.perf_counter() - started)

    return measure


@dataclass(frozen=True)
class Case:
    name: str
    baseline: str
    clients: int
    ops: int  # per client
    batch: bool
    target: float  # least store/raw throughput ratio


CASES = (
    Case("single event, 1 client", "INSERT in a transaction", 1, 1500, False, 0.5),
    Case("single event, 8 clients", "INSERT in a transaction", 8, 300, False, 0.5),
    Case("100-event batch, 1 client", "executemany of 100 rows", 1, 60, True, 0.5),
    Case("100-event batch, 8 clients", "executemany of 100 rows", 8, 10, True, 0.5),
)


async def run(rounds: int) -> None:
    with bench_servers(nats=False) as servers:
        async with scratch_database(servers.postgres_url) as url:
            pool = await create_pool(url, size=10, application="gotong-bench")
            try:
                store = await ledger_store(pool)
                await create_raw_table(pool)
                await report(Appends(pool, store), rounds, servers.embedded)
            finally:
                await pool.close()


def without_notify(store: EventStore, measure: Callable[[], Awaitable[float]]) -> Callable[[], Awaitable[float]]:
    """The measurement with the store's wake-up after commit (its NOTIFY) switched off: what that costs."""

    async def diagnostic() -> float:
        setattr(store, "committed", lambda: None)  # noqa: B010 - an instance override, undone below
        try:
            return await measure()
        finally:
            delattr(store, "committed")

    return diagnostic


async def report(appends: Appends, rounds: int, embedded: bool) -> None:
    rows: list[list[str]] = []
    for case in CASES:
        events = BATCH if case.batch else 1
        raw = throughput(appends.raw_batch if case.batch else appends.raw_single, case.clients, case.ops, events)
        ours = throughput(appends.store_batch if case.batch else appends.store_single, case.clients, case.ops, events)
        contenders = [("raw", raw), ("store", ours)]
        if not case.batch:
            contenders.append(("quiet", without_notify(appends.store, ours)))
        for _, warm_up in contenders:  # connections, prepared statements, caches
            await warm_up()
        results = await interleaved(rounds, contenders)
        per_round = ratios(results["store"], results["raw"])
        ratio = median(per_round)
        quiet = f"{median(ratios(results['quiet'], results['raw'])):.2f}" if "quiet" in results else ""
        rows.append(
            [
                case.name,
                case.baseline,
                f"{median(results['raw']):,.0f}",
                f"{median(results['store']):,.0f}",
                f"{ratio:.2f}",
                f"{min(per_round):.2f}–{max(per_round):.2f}",
                f"≥ {case.target:.2f}",
                "met" if ratio >= case.target else "MISSED",
                quiet,
            ]
        )
    where = "embedded PostgreSQL, durable (fsync, synchronous_commit on)" if embedded else "GOTONG_DATABASE_URL"
    print(f"Event store appends — {machine()}; {where}; {rounds} rounds, medians\n")
    headers = ["case", "baseline", "raw events/s", "store events/s", "store/raw", "rounds", "target", ""]
    print(markdown_table([*headers, "store without NOTIFY/raw"], rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7)
    asyncio.run(run(parser.parse_args().rounds))


if __name__ == "__main__":
    main()
