"""Projection rebuild benchmark: catalog's projection rebuilt from 1 M events through Gotong's rebuild path, against
a raw ``INSERT … SELECT`` of the same rows straight from the events table.

    python bench/rebuild.py                  # 1,000,000 events (31,250 MSMEs)
    python bench/rebuild.py --quick          # 64,000 events (2,000 MSMEs)
    python bench/rebuild.py --events 200000
    python bench/rebuild.py --quick --by-event 16000   # and the first 16,000 replayed event by event, too
    python bench/rebuild.py --events 50000 --updates 2 --by-event 20000   # a history with many updates

The events are bench/_load_market.py's bulk: an MSME registered and its NIB claimed, ten products listed (their
SKUs claimed on the MSME's stream) with a month's capacity declared each, 32 events an MSME, appended to a scratch
database's catalog store with ``append_many``, 50 MSMEs to a transaction. Then, in this order:

1. Raw: the read model's tables filled by ``INSERT … SELECT`` from the events table, every field extracted from
   the events' JSON in SQL: MSMEs, products (with their MSME's name, status and place), their posting lists and
   certified days (the statements a migration backfills posting lists with) and capacity, in one transaction.
   These become the live tables, and the live projection's checkpoint is set to the last event.
2. Rebuild: ``rebuild(store, CATALOG, verify_only=True)``, as ``gotong projections rebuild --verify-only`` runs
   it: the events replayed in committed batches of 1,000 into copies of the tables, then the copies compared
   with the live tables row for row, which also proves the raw SQL and the projection made the same rows. The
   replay's end is seen on the rebuild's checkpoint, so the table splits the time.
3. Passing: catalog's plots projection, none of whose events the bulk holds, taken past it from the start twice
   each way in turns: sent every event (decoded and ignored, as before projections named the types they take)
   and sent only its own types (PostgreSQL goes past the rest by the global order's index). Both must end at the
   last event.

Reported: each side's seconds, rows written per second and events per second, and the ratio of the rebuild's
throughput to the raw one's (issue #25's target: at least 0.3); each pass's seconds and how many times as fast
sending only the projection's types is. With ``--by-event N``, the first N events are then replayed the
rebuild's way into fresh copies three times more: event by event (``apply`` alone, as before projections could
apply a batch at once), in batches with updates and certifications applied alone between stretches (as before
stretches took them, 2026-12-07), and in batches; the three sets of tables are then compared (a digest of each
table's rows, sorted).

With ``--updates U``, the MSMEs of each transaction of the bulk then change in the next one
(bench/_catalog_changes.py): each product described again U times (new prices; every second time a new HS code
too), a certificate scoped by HS prefix and a profile update per MSME, 10 U + 2 more events an MSME. The raw
SQL knows only the bulk's kinds of event, so only the ``--by-event`` replays run.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime

import asyncpg
from _catalog_changes import changes
from _load_market import bulk_msme
from _servers import bench_servers, load, machine, markdown_table, scratch_database

from events.base import Event
from events.catalog import CODEC, CertificationAdded, MsmeUpdated, ProductUpdated
from services.catalog.read.plots import PLOTS
from services.catalog.read.postings import backfill_sql
from services.catalog.read.projections import CATALOG
from services.catalog.read.tables import MIGRATIONS, commitments
from shared.database import create_pool
from shared.eventstore import Connection, EventStore, GlobalPosition, RecordedEvent
from shared.migrations import migrate, tables_ddl
from shared.projection import Decoded, Tables, apply_batch, read_checkpoint, write_checkpoint
from shared.rebuild import rebuild, rebuild_tables
from tests.e2e.market import months_ahead

EVENTS_PER_MSME = 32
BATCH = 50  # MSMEs to a transaction, as bench/load.py appends its bulk
REBUILDING = "rebuild:catalog"


async def append(store: EventStore, msmes: int, updates: int) -> int:
    months, at = months_ahead(3), datetime.now(UTC)
    appended = 0
    for first in range(0, msmes, BATCH):
        bulks = [bulk_msme(n, 10, months, at) for n in range(first, min(first + BATCH, msmes))]
        transactions = [[a for bulk in bulks for a in bulk]]
        if updates:
            transactions.append([a for bulk in bulks for a in changes(bulk, updates, at)])
        for appends in transactions:
            await store.append_many(appends)
            appended += sum(len(a.events) for a in appends)
    return appended


def raw_sql() -> list[str]:
    """The projection's rows from the events table, in SQL alone."""
    live = CATALOG.live_tables()
    msmes, products, capacity = (live[name].fullname for name in ("msmes", "products", "capacity"))
    # A row's version is its stream's (registrations and listings, then SKU claims and declarations, bump it).
    versions = "(SELECT stream_id, max(stream_version) AS version FROM catalog.events GROUP BY stream_id) v"
    standards = """ARRAY(SELECT k.key FROM jsonb_array_elements(d->'standards') WITH ORDINALITY AS s(ref, n),
                         LATERAL (VALUES (1, s.ref->>'standard_id'),
                                         (2, (s.ref->>'standard_id') || '@' || (s.ref->>'version'))) AS k(i, key)
                         ORDER BY s.n, k.i)"""
    post_keys, post_days = backfill_sql(live)[:2]
    return [
        f"""INSERT INTO {msmes} (id, org, name, nib, province, city, contact, size_class, status, registered_by,
                                 registered_at, updated_at, version)
            SELECT (d->>'msme_id')::uuid, d->>'org', d->>'name', d->>'nib', d->>'province', d->>'city', d->'contact',
                   d->>'size_class', coalesce(d->>'status', 'active'), d->>'registered_by', (d->>'at')::timestamptz,
                   (d->>'at')::timestamptz, v.version
            FROM (SELECT stream_id, data AS d FROM catalog.events WHERE event_type = 'MsmeRegistered') e
            JOIN {versions} USING (stream_id)""",
        f"""INSERT INTO {products} (id, msme_id, org, msme_name, msme_status, province, city, sku, name, description,
                                    hs_code, category, unit, moq, price_tiers, currency, lead_time_days, standards,
                                    standard_refs, origin_plots, eudr_commodity, net_mass_kg, listed_at, updated_at,
                                    version)
            SELECT (d->>'product_id')::uuid, (d->>'msme_id')::uuid, d->>'org', coalesce(m.name, ''),
                   coalesce(m.status, 'active'), coalesce(m.province, ''), coalesce(m.city, ''), d->>'sku',
                   d->>'name', d->>'description', d->>'hs_code', d->>'category', d->>'unit', (d->>'moq')::int,
                   d->'price_tiers', d->>'currency', (d->>'lead_time_days')::int, {standards}, d->'standards',
                   coalesce(d->'origin_plots', '[]'), d->>'eudr_commodity', (d->>'net_mass_kg')::numeric,
                   (d->>'at')::timestamptz, (d->>'at')::timestamptz, v.version
            FROM (SELECT stream_id, data AS d FROM catalog.events WHERE event_type = 'ProductListed') e
            JOIN {versions} USING (stream_id)
            LEFT JOIN {msmes} m ON m.id = (d->>'msme_id')::uuid""",
        post_keys,
        post_days,
        f"""INSERT INTO {capacity} (product_id, month, declared, committed)
            SELECT d.product_id, d.month, d.units, coalesce(c.committed, 0)
            FROM (SELECT DISTINCT ON (1, 2) (data->>'product_id')::uuid AS product_id, data->>'month' AS month,
                         (data->>'units')::int AS units
                  FROM catalog.events WHERE event_type = 'CapacityDeclared' ORDER BY 1, 2, position DESC) d
            LEFT JOIN {commitments.fullname} c USING (product_id, month)""",
    ]


async def rows_written(pool: asyncpg.Pool) -> int:
    counts = [await pool.fetchval(f"SELECT count(*) FROM {t.fullname}") for t in CATALOG.live_tables().values()]
    return sum(counts)


async def replay_ends(pool: asyncpg.Pool, last: GlobalPosition) -> float:
    """When the rebuild's checkpoint reaches ``last`` (polled)."""
    while True:
        row = await pool.fetchrow(
            "SELECT transaction_id::text::bigint AS tx, position FROM catalog.checkpoints WHERE name = $1", REBUILDING
        )
        if row is not None and GlobalPosition(row["tx"], row["position"]) >= last:
            return time.perf_counter()
        await asyncio.sleep(0.05)


async def run(msmes: int, updates: int, by_events: int) -> int:
    with bench_servers(nats=False) as servers:
        async with scratch_database(servers.postgres_url) as url:
            pool = await create_pool(url, size=4, application="gotong-bench-rebuild")
            try:
                async with pool.acquire() as connection:
                    await migrate(connection, "catalog", MIGRATIONS)
                store = EventStore(pool, "catalog", CODEC)
                print(f"Rebuild — {machine()}")
                began = time.perf_counter()
                events = await append(store, msmes, updates)
                seconds = time.perf_counter() - began
                print(f"{events:,} events appended ({msmes:,} MSMEs) in {seconds:.0f} s, load {load()}\n")
                await pool.execute("VACUUM ANALYZE catalog.events")
                status = 0 if updates else max(await measure(pool, store, events), await passing(store, events))
                if by_events:
                    await by_event(store, by_events)
                return status
            finally:
                await pool.close()


async def measure(pool: asyncpg.Pool, store: EventStore, events: int) -> int:

    loaded = load()
    began = time.perf_counter()
    async with pool.acquire() as connection, connection.transaction():
        for statement in raw_sql():
            await connection.execute(statement)
    raw_s = time.perf_counter() - began
    rows = await rows_written(pool)
    last = await pool.fetchrow(
        "SELECT transaction_id::text::bigint AS tx, position FROM catalog.events ORDER BY position DESC LIMIT 1"
    )
    end = GlobalPosition(last["tx"], last["position"])
    async with pool.acquire() as connection:  # the live projection is current
        await read_checkpoint(connection, "catalog", CATALOG.checkpoint)
        await write_checkpoint(connection, "catalog", CATALOG.checkpoint, end)
    await pool.execute("VACUUM ANALYZE")

    began = time.perf_counter()
    replayed = asyncio.create_task(replay_ends(pool, end))
    report = await rebuild(store, CATALOG, verify_only=True)
    rebuild_s = time.perf_counter() - began
    replay_s = (await replayed) - began
    print(f"Raw `INSERT … SELECT` at load {loaded}; rebuild {report}; load {load()} after\n")
    table = [
        ["raw `INSERT … SELECT` from the events", f"{raw_s:.1f}", f"{rows / raw_s:,.0f}", f"{events / raw_s:,.0f}"],
        ["rebuild: replay into copies (batches of 1,000)", f"{replay_s:.1f}", f"{rows / replay_s:,.0f}",
         f"{events / replay_s:,.0f}"],
        ["rebuild: the whole, with its row-for-row comparison", f"{rebuild_s:.1f}", f"{rows / rebuild_s:,.0f}",
         f"{events / rebuild_s:,.0f}"],
    ]  # fmt: skip
    print(markdown_table(["", "s", "rows/s", "events/s"], table) + "\n")
    print(f"{rows:,} rows in {len(CATALOG.tables)} tables from {events:,} events")
    print(f"rebuild / raw: {raw_s / rebuild_s:.2f} (replay alone {raw_s / replay_s:.2f}); target ≥ 0.3")
    return 0 if report.matches and report.events_applied == events else 1


async def passing(store: EventStore, events: int) -> int:
    """Catalog's plots projection taken past the bulk, which holds no plot, twice each way in turns: sent every
    event to decode and ignore (as before it named the types it takes) and sent only its own types."""
    ways = (("sent every event", replace(PLOTS, takes=None)), ("sent only plots' types", PLOTS))
    seconds: dict[str, list[float]] = {name: [] for name, _ in ways}
    reached: set[int] = set()
    for turn in range(2):
        for name, projection in ways:
            checkpoint = f"bench:plots {name} {turn}"
            async with store.pool.acquire() as connection:
                await read_checkpoint(connection, "catalog", checkpoint)
                began, passed = time.perf_counter(), 0
                while batch := await apply_batch(store, connection, projection, PLOTS.live_tables(), checkpoint, 500):
                    passed += batch
                seconds[name].append(time.perf_counter() - began)
                reached.add((await read_checkpoint(connection, "catalog", checkpoint)).position)
            if passed != events:
                print(f"{name}: went past {passed:,} events, not {events:,}")
                return 1
    table = [[name, *(f"{s:.1f}" for s in seconds[name]), f"{events / min(seconds[name]):,.0f}"] for name, _ in ways]
    print("\n" + markdown_table(["plots projection past the bulk", "s (1st)", "s (2nd)", "events/s (best)"], table))
    every, own = (min(seconds[name]) for name, _ in ways)
    print(f"\nsent only its types: {every / own:.1f}× as fast as sent every event")
    print(f"all four passes ended at one position: {len(reached) == 1}")
    return 0 if len(reached) == 1 else 1


async def by_event(store: EventStore, count: int) -> None:
    """The first ``count`` events replayed as a rebuild replays them: event by event, in batches with updates and
    certifications applied alone (as before stretches took them), and in batches."""
    rows, digests = [], []
    replays = (
        ("event by event", replace(CATALOG, apply_many=None)),
        ("in batches, updates and certifications alone", replace(CATALOG, apply_many=updates_alone)),
        ("in batches", CATALOG),
    )
    for name, projection in replays:
        metadata, copies = rebuild_tables(projection)
        checkpoint = f"bench:{name}"
        async with store.pool.acquire() as connection:
            for statement in tables_ddl(metadata):
                await connection.execute(statement)
            await read_checkpoint(connection, "catalog", checkpoint)
            loaded, began, applied = load(), time.perf_counter(), 0
            while applied < count and (
                batch := await apply_batch(store, connection, projection, copies, checkpoint, min(1000, count))
            ):
                applied += batch
            seconds = time.perf_counter() - began
            digests.append([await connection.fetchval(DIGEST.format(t.fullname)) for t in copies.values()])
            for table in copies.values():
                await connection.execute(f"DROP TABLE {table.fullname}")
        rows.append([name, f"{applied:,}", f"{seconds:.1f}", f"{applied / seconds:,.0f}", f"{loaded} → {load()}"])
    print("\n" + markdown_table(["replay", "events", "s", "events/s", "load"], rows))
    print(f"\nthe three replays' tables identical row for row: {all(d == digests[0] for d in digests)}")


DIGEST = "SELECT md5(coalesce(string_agg(r, ',' ORDER BY r), '')) FROM (SELECT to_jsonb(t)::text AS r FROM {} t) t"


ALONE = (ProductUpdated, CertificationAdded, MsmeUpdated)


async def updates_alone(connection: Connection, tables: Tables, events: Decoded) -> None:
    """Catalog's batches as they were before stretches took updates and certifications: those applied one at a
    time, ending the stretch before them."""
    stretch: list[tuple[Event, RecordedEvent]] = []
    for event, record in events:
        if isinstance(event, ALONE):
            if stretch:
                await _many(connection, tables, stretch)
                stretch = []
            await CATALOG.apply(connection, tables, event, record)
        else:
            stretch.append((event, record))
    if stretch:
        await _many(connection, tables, stretch)


async def _many(connection: Connection, tables: Tables, events: Decoded) -> None:
    assert CATALOG.apply_many is not None
    await CATALOG.apply_many(connection, tables, events)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="64,000 events")
    parser.add_argument("--events", type=int, default=1_000_000, help="about how many events (32 an MSME)")
    parser.add_argument("--by-event", type=int, default=0, help="replay this many event by event too")
    parser.add_argument("--updates", type=int, default=0, help="describe each product again this many times")
    arguments = parser.parse_args()
    events = 64_000 if arguments.quick else arguments.events
    msmes = max(1, events // (EVENTS_PER_MSME + 10 * arguments.updates + (2 if arguments.updates else 0)))
    sys.exit(asyncio.run(run(msmes, arguments.updates, arguments.by_event)))


if __name__ == "__main__":
    main()
