"""Benchmark of catalog product search against a primary-key lookup, on 200,000 products of 20,000 MSMEs.

    python bench/catalog_search.py              # 20,000 MSMEs, 200,000 products, 300 timed searches each
    python bench/catalog_search.py --quick      # 2,000 MSMEs, 20,000 products, 100 timed searches each
    python bench/catalog_search.py --msmes 500000   # the national size: 5,000,000 products (about an hour)

Rows are generated (seeded) and loaded with COPY straight into the catalog's read model, in a database of
the benchmark's own: on ``GOTONG_DATABASE_URL``'s server if set, else on an embedded PostgreSQL in a
temporary directory. The searches are built by ``services.catalog.read.search.search_statement``, the function
the API uses, with filter values drawn afresh for every run; the baseline is ``lookup_statement`` (what
``GET /products/{id}`` reads) of random products, in the same run on the same connection.
Three timings per query, each against its own baseline: "HTTP" is the request to ``gotong serve catalog``
running on the benchmark's database, as deployed (``GET /v1/products?…`` against ``GET /v1/products/{id}``),
"API" is building the statement, compiling it and running it (what a request pays for its SQL), "SQL" is
running the compiled statement alone.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import os
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from uuid import UUID, uuid4

import asyncpg
from _servers import Measure, interleaved

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from services.catalog.read.postings import backfill_sql
from services.catalog.read.projections import CATALOG
from services.catalog.read.search import SEARCH_SETTINGS, ProductSearch, lookup_statement, search_statement
from services.catalog.read.tables import MIGRATIONS
from shared.auth import Role, TokenAuthority
from shared.database import create_database, drop_database
from shared.dev import free_port
from shared.kernel.geography import cities
from shared.kernel.ids import new_id
from shared.migrations import migrate
from shared.pages import BY_ID
from shared.sql import compile_statement

ROOT = Path(__file__).resolve().parent.parent
PRODUCT_COLUMNS = (
    "id", "msme_id", "org", "msme_name", "msme_status", "province", "city", "sku", "name", "description",
    "hs_code", "category", "unit", "moq", "price_tiers", "currency", "lead_time_days", "standards",
    "standard_refs", "origin_plots", "eudr_commodity", "listed_at", "updated_at", "version",
)  # fmt: skip


TODAY = date(2026, 11, 2)
MSME_COLUMNS = (
    "id", "org", "name", "nib", "province", "city", "contact", "size_class", "status", "registered_by",
    "registered_at", "updated_at", "version",
)  # fmt: skip
CERTIFICATION_COLUMNS = (
    "id", "msme_id", "kind", "key", "name", "number", "issuer", "valid_from", "valid_until", "added_at",
)  # fmt: skip

# category: (share of products, HS codes, product nouns, unit, food, wood)
CATEGORIES: dict[str, tuple[float, tuple[str, ...], tuple[str, ...], str, bool, bool]] = {
    "baskets": (
        10,
        ("46021210", "46021290", "46021919"),
        ("rattan basket", "seagrass basket", "water hyacinth basket", "bamboo tray"),
        "PCE",
        False,
        False,
    ),
    "furniture": (
        10,
        ("94036010", "94038300", "94016100"),
        ("teak dining table", "rattan lounge chair", "mahogany cabinet", "bamboo bench"),
        "PCE",
        False,
        True,
    ),
    "handicrafts": (
        9,
        ("44201100", "44209090", "69139090"),
        ("carved wooden mask", "batik wall hanging", "wayang puppet", "ceramic vase"),
        "PCE",
        False,
        True,
    ),
    "batik_textiles": (
        6,
        ("52085200", "52121500"),
        ("hand-drawn batik cloth", "stamped batik fabric", "ikat weaving"),
        "MTR",
        False,
        False,
    ),
    "apparel": (
        7,
        ("61091010", "62052020", "62044300"),
        ("batik shirt", "cotton kaftan", "linen dress"),
        "PCE",
        False,
        False,
    ),
    "footwear": (3, ("64039990", "64041900"), ("leather sandal", "woven espadrille"), "PR", False, False),
    "coffee": (
        6,
        ("09011110", "09012110", "09011190"),
        ("arabica green beans", "robusta roasted beans", "luwak coffee"),
        "KGM",
        True,
        False,
    ),
    "cocoa": (3, ("18010010", "18063200"), ("fermented cocoa beans", "dark chocolate bar"), "KGM", True, False),
    "spices": (
        6,
        ("09041110", "09081100", "09061100", "09101100"),
        ("black pepper", "nutmeg", "cinnamon sticks", "dried ginger"),
        "KGM",
        True,
        False,
    ),
    "processed_food": (
        9,
        ("19059090", "20081990", "21069099"),
        ("cassava chips", "tempeh crackers", "sambal paste", "coconut cookies"),
        "PCE",
        True,
        False,
    ),
    "seafood": (
        4,
        ("03061719", "16041410", "03038990"),
        ("frozen shrimp", "canned tuna", "dried anchovy"),
        "KGM",
        True,
        False,
    ),
    "coconut_products": (
        4,
        ("15131100", "17029099", "08011900"),
        ("virgin coconut oil", "palm sugar", "desiccated coconut"),
        "KGM",
        True,
        False,
    ),
    "essential_oils": (2, ("33012910", "33012400"), ("patchouli oil", "clove leaf oil"), "LTR", False, False),
    "ceramics": (3, ("69120000", "69111000"), ("stoneware plate", "glazed bowl"), "PCE", False, False),
    "jewellery": (2, ("71131190", "71171900"), ("silver filigree ring", "pearl earring"), "PCE", False, False),
    "home_textiles": (4, ("63026000", "63049200"), ("cotton bath towel", "woven cushion cover"), "PCE", False, False),
    "wood_products": (3, ("44189990", "44092900"), ("teak decking tile", "merbau flooring"), "MTK", False, True),
    "cosmetics": (3, ("33049990", "34011140"), ("herbal soap bar", "jamu body scrub"), "PCE", True, False),
}
ADJECTIVES = ("hand-woven", "natural", "premium", "classic", "eco", "handmade", "traditional", "modern", "organic",
              "rustic", "fine", "export grade")  # fmt: skip
PROVINCE_WEIGHTS = {"Jawa Barat": 18, "Jawa Tengah": 18, "Jawa Timur": 16, "DI Yogyakarta": 7, "DKI Jakarta": 6,
                    "Bali": 6, "Banten": 3, "Sumatera Utara": 4, "Sulawesi Selatan": 3, "Kalimantan Timur": 2,
                    "Nusa Tenggara Barat": 2, "Sumatera Barat": 2}  # fmt: skip
MSME_WORDS = ("Makmur", "Jaya", "Sejahtera", "Abadi", "Sentosa", "Mandiri", "Lestari", "Berkah", "Karya", "Sumber")


class Dataset:
    """Generated rows, plus ways to draw realistic filter values from them."""

    def __init__(self) -> None:
        self.msmes: list[tuple[Any, ...]] = []
        self.certifications: list[tuple[Any, ...]] = []
        self.products: list[tuple[Any, ...]] = []
        self.capacity: list[tuple[Any, ...]] = []
        self.product_ids: list[UUID] = []
        self.categories = list(CATEGORIES)

    def product_id(self, rng: random.Random) -> UUID:
        return rng.choice(self.product_ids)

    def _product(
        self, rng: random.Random, where: Callable[[tuple[Any, ...]], bool] = lambda _: True
    ) -> tuple[Any, ...]:
        """A random existing product: searches look for things the catalog has, as buyers do."""
        while not where(row := rng.choice(self.products)):
            pass
        return row

    def category(self, rng: random.Random) -> str:
        return str(self._product(rng)[11])

    def province(self, rng: random.Random) -> str:
        return str(self._product(rng)[5])

    def hs_code(self, rng: random.Random, food: bool = False) -> str:
        return str(self._product(rng, lambda p: not food or CATEGORIES[p[11]][4])[10])

    def standard(self, rng: random.Random) -> str:
        return str(rng.choice(self._product(rng, lambda p: bool(p[17]))[17]))

    def words(self, rng: random.Random, count: int, product: tuple[Any, ...] | None = None) -> str:
        """Words of an existing product's name, as someone would type them."""
        name = [w for w in str((product or self._product(rng))[8]).split() if len(w) >= 3]
        return " ".join(rng.sample(name, min(count, len(name))))

    def looking_for(self, rng: random.Random) -> ProductSearch:
        """HS chapter, province, free capacity and a word, all of one existing product: a buyer narrowing down."""
        product = self._product(rng)
        return ProductSearch(
            hs_prefix=str(product[10])[:2], province=str(product[5]), min_available=200,
            available_from=_month(1), available_to=_month(2), text=self.words(rng, 1, product),
        )  # fmt: skip


def generate(rng: random.Random, msme_count: int, product_count: int) -> Dataset:
    data = Dataset()
    places = [c for c in cities() if rng.random() < 0.9 or c.province in PROVINCE_WEIGHTS]
    weights = [PROVINCE_WEIGHTS.get(c.province, 0.3) for c in places]
    standards = {name: [str(uuid4()) for _ in range(15)] for name in CATEGORIES}
    now = datetime(2026, 11, 2, tzinfo=UTC)
    owners: list[tuple[UUID, str, str, str, str, str, list[str]]] = []
    for number in range(msme_count):
        msme_id, city = new_id(), rng.choices(places, weights)[0]
        org, name = (
            f"org-{number}",
            f"{rng.choice(('CV', 'UD', 'PT', 'Koperasi'))} {rng.choice(MSME_WORDS)} {city.name}",
        )
        status = "suspended" if rng.random() < 0.02 else "active"
        focus = rng.choices(data.categories, [c[0] for c in CATEGORIES.values()], k=rng.choice((1, 1, 2)))
        owners.append((msme_id, org, name, city.province, city.name, status, focus))
        contact = '{"name": "Pemilik", "phone": "+62 21 555 0100"}'
        data.msmes.append((msme_id, org, name, f"{9_120_000_000_000 + number}", city.province, city.name, contact,
                           rng.choice(("micro", "small", "medium")), status, org, now, now, 1))  # fmt: skip
        food, wood = any(CATEGORIES[c][4] for c in focus), any(CATEGORIES[c][5] for c in focus)
        chances = {"halal": 0.7 if food else 0.1, "bpom": 0.5 if food else 0.02, "svlk": 0.8 if wood else 0.0,
                   "sni": 0.15, "iso_9001": 0.05, "organic": 0.1 if food else 0.0, "fair_trade": 0.04}  # fmt: skip
        for kind, chance in chances.items():
            if rng.random() < chance:
                start = date(2022, 1, 1) + timedelta(days=rng.randrange(1_700))
                until = start + timedelta(days=rng.choice((730, 1_095, 1_460)))
                data.certifications.append(
                    (new_id(), msme_id, kind, kind, kind.upper(), f"{kind}-{number}", "LPPOM", start, until, now)
                )
    sizes = [rng.lognormvariate(0, 1) for _ in owners]
    for number, owner in enumerate(rng.choices(owners, sizes, k=product_count)):
        msme_id, org, msme_name, province, town, status, focus = owner
        category = rng.choice(focus)
        _, hs_codes, nouns, unit, _, _ = CATEGORIES[category]
        noun = rng.choice(nouns)
        name = f"{rng.choice(ADJECTIVES)} {noun} {rng.choice(('S', 'M', 'L', 'XL', '20 cm', '40 cm', '1 kg'))}"
        price = round(rng.lognormvariate(1.5, 0.8), 2) + 0.5
        tiers = f'[{{"min_quantity": 1, "unit_price": {{"amount": "{price:.2f}", "currency": "USD"}}}}]'
        refs = rng.sample(standards[category], rng.choices((0, 1, 2), (5, 4, 1))[0])
        keys = [k for ref in refs for k in (ref, f"{ref}@1")]
        refs_json = "[" + ", ".join(f'{{"standard_id": "{r}", "version": 1}}' for r in refs) + "]"
        product_id = new_id()
        data.product_ids.append(product_id)
        data.products.append((
            product_id, msme_id, org, msme_name, status, province, town, f"SKU-{number}", name,
            f"{name}, made in {town} by {msme_name}", rng.choice(hs_codes), category, unit,
            rng.choice((10, 50, 100, 500)), tiers, "USD", rng.randint(7, 90), keys, refs_json, "[]", None,
            now, now, 1,
        ))  # fmt: skip
        if rng.random() < 0.7:
            base = int(rng.lognormvariate(6, 1.2))
            for offset in range(1, 7):
                declared = max(0, int(base * rng.uniform(0.8, 1.2)))
                booked = 0 if rng.random() < 0.6 else int(declared * rng.uniform(0, 1.1))
                data.capacity.append((product_id, _month(offset), declared, booked))
    return data


@dataclass(frozen=True)
class Scenario:
    name: str
    search: Callable[[random.Random, Dataset], ProductSearch]


def _month(offset: int) -> str:
    index = TODAY.year * 12 + TODAY.month - 1 + offset
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


SCENARIOS = (
    Scenario("category + province", lambda r, d: ProductSearch(category=d.category(r), province=d.province(r))),
    Scenario("HS heading (4 digits)", lambda r, d: ProductSearch(hs_prefix=d.hs_code(r)[:4])),
    Scenario("HS subheading + halal valid today", lambda r, d: ProductSearch(
        hs_prefix=d.hs_code(r, food=True)[:6], certifications=("halal",), certified_on=TODAY)),
    Scenario("city (Solo → Surakarta)", lambda r, d: ProductSearch(province="Jawa Tengah", city="Surakarta")),
    Scenario("category + certification", lambda r, d: ProductSearch(
        category=d.category(r), certifications=(r.choice(("halal", "sni", "iso_9001")),), certified_on=TODAY)),
    Scenario("standard (any version)", lambda r, d: ProductSearch(standard=d.standard(r))),
    Scenario("free text, two words", lambda r, d: ProductSearch(text=d.words(r, 2))),
    Scenario("free text + province", lambda r, d: ProductSearch(text=d.words(r, 1), province=d.province(r))),
    Scenario("free text, two words of a tenth of it", lambda r, d: ProductSearch(
        text=r.choice(("hand woven", "export grade")))),
    Scenario("category + ≥ 1,000 free over 3 months", lambda r, d: ProductSearch(
        category=d.category(r), min_available=1_000, available_from=_month(1), available_to=_month(3))),
    Scenario("HS chapter + province + capacity + text", lambda r, d: ProductSearch(
        hs_prefix=d.hs_code(r)[:2], province=d.province(r), min_available=200, available_from=_month(1),
        available_to=_month(2), text=d.words(r, 1))),
    Scenario("the same four filters, of one product", lambda r, d: d.looking_for(r)),
    Scenario("browse, no filter", lambda r, d: ProductSearch()),
    Scenario("category, a later page (cursor)", lambda r, d: ProductSearch(
        category=d.category(r), after=d.product_id(r))),
)  # fmt: skip


def _statement_of(scenario: Scenario, rng: random.Random, data: Dataset) -> Callable[[], Any]:
    return lambda: search_statement(scenario.search(rng, data))


async def load(connection: asyncpg.Connection, data: Dataset) -> None:
    await migrate(connection, "catalog", MIGRATIONS)
    await connection.copy_records_to_table("msmes", schema_name="catalog", records=data.msmes, columns=MSME_COLUMNS)
    await connection.copy_records_to_table(
        "certifications", schema_name="catalog", records=data.certifications, columns=CERTIFICATION_COLUMNS
    )
    await connection.copy_records_to_table(
        "products", schema_name="catalog", records=data.products, columns=PRODUCT_COLUMNS
    )
    await connection.copy_records_to_table(
        "capacity",
        schema_name="catalog",
        records=data.capacity,
        columns=("product_id", "month", "declared", "committed"),
    )
    for statement in backfill_sql(CATALOG.live_tables()):
        await connection.execute(statement)
    tables = ", ".join(f"{t.schema}.{t.name}" for t in CATALOG.tables)
    await connection.execute(f"VACUUM ANALYZE {tables}")
    await connection.execute("CHECKPOINT")


def _percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


BASELINE = "primary-key lookup"
TUNING = {"shared_buffers": "1GB", "effective_cache_size": "4GB", "random_page_cost": "1.1"}


@dataclass(frozen=True)
class Timing:
    name: str
    api: list[float]
    sql: list[float]
    rows: list[int]

    def p(self, which: str, share: float) -> float:
        return _percentile(getattr(self, which), share) * 1000


async def measure(
    connection: asyncpg.Connection, queries: dict[str, Callable[[], Any]], runs: int, warmup: int
) -> dict[str, Timing]:
    """Run every query once per round, round after round, so noise on a shared machine hits them alike.

    A search does what ``find_products`` does for the API: set custom planning, then run the statement.
    """
    timings = {name: Timing(name, [], [], []) for name in queries}
    for index in range(warmup + runs):
        for name, statement_of in queries.items():
            started = time.perf_counter()
            text, args = compile_statement(statement_of())
            if name != BASELINE:
                await connection.execute(SEARCH_SETTINGS)
            ready = time.perf_counter()
            found = await connection.fetch(text, *args)
            done = time.perf_counter()
            if index >= warmup:
                timing = timings[name]
                timing.api.append(done - started)
                timing.sql.append(done - ready)
                timing.rows.append(len(found))
    return timings


async def run(
    server_url: str, nats_url: str, msme_count: int, product_count: int, runs: int, seed: int, explain: bool
) -> None:
    started = time.perf_counter()
    data = generate(random.Random(seed), msme_count, product_count)
    generated = time.perf_counter()
    name = f"gotong_bench_catalog_{new_id().hex[-12:]}"
    url = await create_database(server_url, name)
    try:
        connection = await asyncpg.connect(url)
        try:
            await load(connection, data)
            loaded = time.perf_counter()
            print(
                f"{msme_count:,} MSMEs, {product_count:,} products, {len(data.certifications):,} certifications,"
                f" {len(data.capacity):,} capacity months; generated in {generated - started:.1f} s,"
                f" loaded and indexed in {loaded - generated:.1f} s"
            )
            print(await sizes(connection))
            rng = random.Random(seed + 1)
            queries: dict[str, Callable[[], Any]] = {
                BASELINE: lambda: lookup_statement(data.product_id(rng)),
                **{s.name: _statement_of(s, rng, data) for s in SCENARIOS},
            }
            if explain:
                for name, statement_of in queries.items():
                    text, args = compile_statement(statement_of())
                    plan = await connection.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {text}", *args)
                    print(f"\n-- {name}\n" + "\n".join(row[0] for row in plan))
            timings = await measure(connection, queries, runs, max(10, runs // 10))
        finally:
            await connection.close()
        paths: dict[str, Callable[[], str]] = {
            BASELINE: lambda: f"/v1/products/{data.product_id(rng)}",
            **{s.name: _path_of(s, rng, data) for s in SCENARIOS},
        }
        with catalog_served(url, nats_url) as client:
            over_http = await measure_http(client, paths, runs, max(10, runs // 10))
    finally:
        await drop_database(server_url, name)
    report(timings[BASELINE], [t for name, t in timings.items() if name != BASELINE])
    report_http(over_http)


def search_path(search: ProductSearch) -> str:
    """``GET /v1/products`` asking for ``search``: the API reads it back into the same search."""
    standard, _, version = (search.standard or "").partition("@")
    given: list[tuple[str, object]] = [
        ("hs", search.hs_prefix), ("category", search.category), ("province", search.province),
        ("city", search.city), *(("certification", kind) for kind in search.certifications),
        ("certified_on", search.certified_on), ("standard", standard), ("standard_version", version),
        ("min_available", search.min_available), ("available_from", search.available_from),
        ("available_to", search.available_to), ("q", search.text),
        ("cursor", BY_ID.encode((search.after,)) if search.after else None), ("limit", search.limit),
    ]  # fmt: skip
    return "/v1/products?" + urlencode([(name, str(value)) for name, value in given if value not in (None, "")])


def _path_of(scenario: Scenario, rng: random.Random, data: Dataset) -> Callable[[], str]:
    return lambda: search_path(scenario.search(rng, data))


@dataclass
class HttpClient:
    """One kept-alive connection to the served catalog, as an aggregator's user."""

    connection: http.client.HTTPConnection
    headers: dict[str, str]

    def get(self, path: str) -> int:
        self.connection.request("GET", path, headers=self.headers)
        response = self.connection.getresponse()
        response.read()
        return response.status


@contextmanager
def catalog_served(database_url: str, nats_url: str, timeout: float = 90.0) -> Iterator[HttpClient]:
    """``gotong serve catalog`` on the benchmark's database, in a process of its own as deployed."""
    secret, port = secrets.token_urlsafe(32), free_port()
    env = os.environ | {
        "GOTONG_DATABASE_URL": database_url, "GOTONG_NATS_URL": nats_url, "GOTONG_JWT_SECRET": secret,
        "GOTONG_NATS_PREFIX": f"bench{new_id().hex[-8:]}", "GOTONG_PORT": str(port), "GOTONG_LOG_LEVEL": "WARNING",
        # the limits are checked as deployed, at rates the benchmark's one caller never reaches
        "GOTONG_RATE_LIMIT_PER_PRINCIPAL": "1000000/s", "GOTONG_RATE_LIMIT_PER_ADDRESS": "1000000/s",
    }  # fmt: skip
    command = [sys.executable, "-c", "import sys; from shared.cli import main; sys.exit(main(sys.argv[1:]))"]
    token = TokenAuthority(secret=secret).issue(sub="bench", role=Role.AGGREGATOR, org="org-bench")
    client = HttpClient(http.client.HTTPConnection("127.0.0.1", port), {"Authorization": f"Bearer {token}"})
    with tempfile.TemporaryFile() as output:  # read only if the server fails: an unread pipe could stall it
        server = subprocess.Popen([*command, "serve", "catalog"], env=env, cwd=ROOT, stdout=output, stderr=output)
        try:
            deadline = time.monotonic() + timeout
            while not _answers(client, "/ready"):
                if server.poll() is not None or time.monotonic() > deadline:
                    server.kill()
                    server.wait()
                    output.seek(0)
                    failed = output.read().decode(errors="replace")
                    raise RuntimeError(f"gotong serve catalog did not get ready:\n{failed}")
                time.sleep(0.2)
            yield client
        finally:
            client.connection.close()
            server.terminate()
            server.wait(timeout=30)


def _answers(client: HttpClient, path: str) -> bool:
    try:
        return client.get(path) == 200
    except OSError:
        client.connection.close()  # not listening yet: the next request reconnects
        return False


async def measure_http(
    client: HttpClient, paths: dict[str, Callable[[], str]], runs: int, warmup: int
) -> dict[str, list[float]]:
    """Each request once per round (``interleaved``), after ``warmup`` rounds that are not kept."""

    def timed(name: str, path_of: Callable[[], str]) -> Measure:
        async def request() -> float:
            path = path_of()
            started = time.perf_counter()
            status = client.get(path)
            elapsed = time.perf_counter() - started
            if status != 200:
                raise RuntimeError(f"{name}: GET {path} answered {status}")
            return elapsed

        return request

    contenders = [(name, timed(name, path_of)) for name, path_of in paths.items()]
    await interleaved(warmup, contenders)
    return await interleaved(runs, contenders)


async def sizes(connection: asyncpg.Connection) -> str:
    """Rows and size on disk (table, then indexes) of the products and of the posting lists."""
    parts = []
    for table in ("products", "product_postings"):
        rows, heap, indexes = await connection.fetchrow(
            f"SELECT count(*), pg_relation_size('catalog.{table}'), pg_indexes_size('catalog.{table}')"
            f" FROM catalog.{table}"
        )
        parts.append(f"{table}: {rows:,} rows, {heap / 2**20:,.0f} MB + {indexes / 2**20:,.0f} MB of indexes")
    return "; ".join(parts)


def report(baseline: Timing, timings: list[Timing]) -> None:
    base_api, base_sql = baseline.p("api", 0.95), baseline.p("sql", 0.95)
    print()
    print("| query | rows (median) | API p50 ms | API p95 ms | SQL p50 ms | SQL p95 ms | API p95 / PK | SQL p95 / PK |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for timing in [baseline, *timings]:
        print(
            f"| {timing.name} | {statistics.median(timing.rows):.0f} | {timing.p('api', 0.5):.2f}"
            f" | {timing.p('api', 0.95):.2f} | {timing.p('sql', 0.5):.2f} | {timing.p('sql', 0.95):.2f}"
            f" | {timing.p('api', 0.95) / base_api:.1f}x | {timing.p('sql', 0.95) / base_sql:.1f}x |"
        )
    _within_five_times("API p95", {t.name: t.p("api", 0.95) / base_api for t in timings})


def report_http(samples: dict[str, list[float]]) -> None:
    base = _percentile(samples[BASELINE], 0.95)
    print("\nOver HTTP (`gotong serve catalog`), the baseline is `GET /v1/products/{id}`:\n")
    print("| request | HTTP p50 ms | HTTP p95 ms | HTTP p95 / PK |")
    print("|---|---:|---:|---:|")
    for name, taken in samples.items():
        p50, p95 = _percentile(taken, 0.5), _percentile(taken, 0.95)
        print(f"| {name} | {p50 * 1000:.2f} | {p95 * 1000:.2f} | {p95 / base:.1f}x |")
    searches = {name: _percentile(taken, 0.95) / base for name, taken in samples.items() if name != BASELINE}
    _within_five_times("HTTP p95", searches)


def _within_five_times(measure: str, ratios: dict[str, float]) -> None:
    over = [name for name, ratio in ratios.items() if ratio > 5]
    print(f"\nwithin 5x of the primary-key lookup ({measure}): {len(ratios) - len(over)} of {len(ratios)} searches")
    if over:
        print("over: " + "; ".join(over))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a tenth of the data, 100 runs per query")
    parser.add_argument("--msmes", type=int, help="MSMEs, each with 10 products on average (default 20,000)")
    parser.add_argument("--seed", type=int, default=20261015)
    parser.add_argument("--stock-settings", action="store_true", help="keep the embedded server's default settings")
    parser.add_argument("--explain", action="store_true", help="print each query's plan (EXPLAIN ANALYZE) first")
    args = parser.parse_args()
    msmes, runs = (2_000, 100) if args.quick else (20_000, 300)
    msmes = args.msmes or msmes
    products = msmes * 10
    server, nats_url = os.environ.get("GOTONG_DATABASE_URL"), os.environ.get("GOTONG_NATS_URL")
    from shared.dev import start_nats, start_postgres

    base = Path(tempfile.mkdtemp(prefix="gotong-bench-catalog-", dir="/tmp"))
    base.chmod(0o755)  # the embedded PostgreSQL runs as an unprivileged user when we are root
    stoppers: list[Callable[[], None]] = []
    try:
        if not nats_url:
            nats = start_nats(base / "nats")
            stoppers.append(nats.stop)
            nats_url = nats.url
        if not server:
            postgres = start_postgres(base / "postgres", durable=False)
            if not args.stock_settings:
                asyncio.run(tune(postgres.dsn))
                postgres.stop()
                postgres = start_postgres(base / "postgres", durable=False)
            stoppers.append(postgres.stop)
            server = postgres.dsn
        asyncio.run(run(server, nats_url, msmes, products, runs, args.seed, args.explain))
    finally:
        for stop in reversed(stoppers):
            stop()
        shutil.rmtree(base, ignore_errors=True)


async def tune(server_url: str) -> None:
    """What a server dedicated to Gotong would use: the read model cached, random reads as cheap as SSDs make them."""
    connection = await asyncpg.connect(server_url)
    try:
        for name, value in TUNING.items():
            await connection.execute(f"ALTER SYSTEM SET {name} = '{value}'")
    finally:
        await connection.close()
    print("server settings: " + ", ".join(f"{name} = {value}" for name, value in TUNING.items()))


if __name__ == "__main__":
    main()
