"""The load benchmark's marketplace: a bulk of MSMEs and products appended straight to catalog's store, and the
people of the mixed workload calling the `gotong serve` processes over HTTP, every request timed."""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

import httpx
import msgspec
from _servers import percentile  # first: it puts the repository (and so tests.support) on the path

from events.catalog import CapacityDeclared, Contact, MsmeRegistered, NibClaimed, ProductListed, SkuClaimed
from events.common import Money, PriceTier
from services.catalog.domain.msme import msme_stream
from services.catalog.domain.nib import nib_stream
from services.catalog.domain.product import product_stream
from shared.eventstore import EventStore, Metadata, StreamAppend
from shared.kernel.ids import new_id
from shared.service import load_services
from tests.e2e.market import Gotong, Market, Weaver, months_ahead

T = TypeVar("T")
Json = Any
PLACES = [
    ("Jawa Barat", "Cirebon"), ("Jawa Barat", "Tasikmalaya"), ("Jawa Tengah", "Surakarta"), ("Jawa Tengah", "Jepara"),
    ("Jawa Timur", "Surabaya"), ("DI Yogyakarta", "Yogyakarta"), ("Bali", "Denpasar"), ("Aceh", "Takengon"),
    ("Sulawesi Selatan", "Makassar"), ("Sumatera Utara", "Medan"),
]  # fmt: skip
GOODS = [
    ("homeware", "460212", "rattan basket"), ("furniture", "940161", "teak chair"), ("coffee", "090111", "arabica"),
    ("spices", "090831", "cardamom"), ("batik", "520852", "batik cloth"), ("processed_food", "200819", "cashew"),
]  # fmt: skip
BULK_METADATA = Metadata(correlation_id=str(new_id()), actor="bench:bulk", command_id=str(new_id()))


def bulk_metadata(org: str) -> Metadata:
    """What an MSME's own import of its records carries: it is on the MSME's audit trail, as through the API."""
    return msgspec.structs.replace(BULK_METADATA, org=org)


# --- timing ---


@dataclass
class Recorder:
    """Every operation's latencies (seconds) and errors, by method and route template."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)
    lags: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    workload_seconds: float = 0.0

    def error(self, operation: str, detail: str) -> None:
        self.errors[operation] += 1
        self.examples.setdefault(operation, detail[:300])

    def summary(self, operation: str, seconds: float) -> tuple[int, float, float, float, float]:
        """Count, per second over ``seconds``, p50, p95 and p99 in milliseconds."""
        values = self.latencies[operation]
        ms = [1000 * v for v in values]
        return len(values), len(values) / seconds, percentile(ms, 0.5), percentile(ms, 0.95), percentile(ms, 0.99)


class TimedGotong(Gotong):
    """``Gotong`` that times each request under its route template and counts an unexpected status as an error."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        routes: list[tuple[re.Pattern[str], str]],
        recorder: Recorder,
        turns: Mapping[str, Iterator[str]] | None = None,
    ):
        super().__init__(client, routes)
        self.recorder = recorder
        self.templates = {pattern.pattern: template for pattern, template in _templates(routes)}
        self.turns = dict(turns or {})

    @classmethod
    def timed(
        cls,
        client: httpx.AsyncClient,
        urls: Mapping[str, str],
        recorder: Recorder,
        turns: Mapping[str, Iterator[str]] | None = None,
    ) -> TimedGotong:
        """Routes from each served service's own route handlers (every process's /schema shows the whole API);
        ``turns``: for a service with replicas, its first replica's URL → the URLs to send requests to in turn."""
        routes: list[tuple[re.Pattern[str], str]] = []
        for service in load_services(list(urls)):
            for handler in service.routes:
                for path in handler.paths:
                    pattern = "^/v1" + re.sub(r"\{[^/]+\}", "[^/]+", path) + "$"
                    routes.append((re.compile(pattern), urls[service.name]))
        return cls(client, routes, recorder, turns)

    def url_of(self, path: str) -> str:
        """The URL of the process serving ``path``; with replicas, of the next replica in turn."""
        located = super().url_of(path)
        turns = self.turns.get(located[: len(located) - len(path)])
        return located if turns is None else next(turns) + path

    def operation(self, method: str, path: str) -> str:
        bare = path.split("?")[0]
        for pattern, _ in self.routes:
            if pattern.match(bare):
                return f"{method} {self.templates[pattern.pattern]}"
        return f"{method} {bare}"

    async def call(self, method: str, path: str, headers: dict[str, str], body: Json = None, expect: int = 200) -> Json:
        operation = self.operation(method, path)
        started = time.perf_counter()
        try:
            response = await self.client.request(method, self.url_of(path), json=body, headers=headers)
        except httpx.HTTPError as error:
            self.recorder.error(operation, f"{type(error).__name__}: {error}")
            raise
        self.recorder.latencies[operation].append(time.perf_counter() - started)
        if response.status_code != expect:
            self.recorder.error(operation, f"{response.status_code} {response.text}")
            raise AssertionError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json()


def _templates(routes: list[tuple[re.Pattern[str], str]]) -> Iterator[tuple[re.Pattern[str], str]]:
    for pattern, _ in routes:
        yield pattern, re.sub(r"\[\^/\]\+", "{id}", pattern.pattern.strip("^$"))


async def poll(check: Callable[[], Awaitable[T | None]], what: str, timeout: float, every: float = 0.02) -> T:
    """``check`` until it answers (polled often: the time it first answers is a lag being measured)."""
    deadline = time.perf_counter() + timeout
    while True:
        if result := await check():
            return result
        if time.perf_counter() > deadline:
            raise AssertionError(f"did not happen within {timeout:.0f} s: {what}")
        await asyncio.sleep(every)


async def bounded(limit: int, jobs: Sequence[Callable[[], Awaitable[T]]]) -> list[T]:
    """Run the jobs at most ``limit`` at a time, in order of their results."""
    gate = asyncio.Semaphore(limit)

    async def one(job: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await job()

    return list(await asyncio.gather(*(one(job) for job in jobs)))


# --- the bulk, straight into catalog's store ---


def bulk_msme(number: int, products: int, months: list[str], at: datetime) -> list[StreamAppend]:
    """One MSME as catalog would record it: registered, its NIB claimed, ``products`` products listed (SKU
    claimed on the MSME's stream) with capacity declared for the first of ``months``. The MSME's stream comes
    before its products', as its registration precedes their listings when catalog's commands record them."""
    rng = random.Random(number)
    msme_id, org = new_id(), f"bulk-msme-{number}"
    metadata = bulk_metadata(org)
    province, city = PLACES[number % len(PLACES)]
    nib = f"{9_000_000_000_000 + number:013d}"
    registered = MsmeRegistered(
        msme_id=msme_id, org=org, name=f"Usaha {city} {number}", nib=nib, province=province, city=city,
        contact=Contact(name="Siti", phone="+62 231 555 0100"), size_class="small", registered_by=org, at=at,
    )  # fmt: skip
    msme_events: list[Any] = [registered]
    products_appends: list[StreamAppend] = []
    for serial in range(products):
        category, hs_code, noun = GOODS[(number + serial) % len(GOODS)]
        product_id, sku = new_id(), f"SKU-{serial:04d}"
        price = Decimal(rng.randint(150, 2_000)) / 100
        listed = ProductListed(
            product_id=product_id, msme_id=msme_id, org=org, sku=sku, name=f"{noun} {serial}",
            description=f"{noun} made in {city}", hs_code=hs_code, category=category, unit="PCE",
            moq=rng.choice((50, 100, 200)), price_tiers=[PriceTier(min_quantity=1, unit_price=Money(amount=price,
            currency="USD"))], currency="USD", lead_time_days=30, standards=[], at=at,
        )  # fmt: skip
        declared = CapacityDeclared(
            product_id=product_id, msme_id=msme_id, month=months[serial % len(months)], units=rng.randint(100, 3_000),
            at=at,
        )  # fmt: skip
        products_appends.append(StreamAppend(product_stream(product_id), "product", 0, [listed, declared], metadata))
        msme_events.append(SkuClaimed(msme_id=msme_id, product_id=product_id, sku=sku, at=at))
    return [
        StreamAppend(nib_stream(nib), "nib", 0, [NibClaimed(nib=nib, msme_id=msme_id, at=at)], metadata),
        StreamAppend(msme_stream(msme_id), "msme", 0, msme_events, metadata),
        *products_appends,
    ]


async def append_bulk(store: EventStore, msmes: int, products: int, *, batch: int = 50, writers: int = 4) -> int:
    """Append the bulk (``batch`` MSMEs to a transaction, ``writers`` transactions at a time); events appended."""
    months, at = months_ahead(3), datetime.now(UTC)
    appended = 0
    gate = asyncio.Semaphore(writers)

    async def one(first: int) -> None:
        nonlocal appended
        async with gate:
            appends = [a for n in range(first, min(first + batch, msmes)) for a in bulk_msme(n, products, months, at)]
            await store.append_many(appends)
            appended += sum(len(a.events) for a in appends)

    await asyncio.gather(*(one(first) for first in range(0, msmes, batch)))
    return appended


# --- the mixed workload ---


@dataclass
class Story:
    """One market of the workload: its people, its standard, its weavers and pool."""

    market: Market
    standard: str
    weavers: list[Weaver]
    pool_id: str
    monthly: int

    @property
    def demand(self) -> int:
        """Most of what the weavers can make over the three months, so the allocation asks nearly all of them."""
        return len(self.weavers) * self.monthly * 3 * 9 // 10


async def prepare(gotong: Gotong, weavers: int, monthly: int, concurrency: int) -> Story:
    market = Market(gotong)
    standard = await market.standard()
    prices = [f"{3 + (n % 40) / 20:.2f}" for n in range(weavers)]
    jobs = [partial(market.weaver, standard, price=p, monthly=monthly) for p in prices]
    made: list[Weaver] = await bounded(concurrency, jobs)
    return Story(market, standard, made, await market.pool(standard), monthly)


@dataclass
class Answers:
    order_id: str = ""
    accepted: int = 0
    accepted_units: int = 0
    parts: int = 0
    declines: int = 0
    seconds: float = 0.0  # from the first answer sent to the last one answered
    done: list[tuple[float, int]] = field(default_factory=list)  # when each accept was answered, and its units
    finished: bool = False  # every weaver has answered


async def run_story(story: Story, recorder: Recorder, timeout: float, rng: random.Random) -> Answers:
    """An order confirmed into the pool, allocated, every asked weaver answering at once (85 % accept, 10 % part,
    5 % decline), accepted units delivered as lots and judged; lags measured across services."""
    market, gotong = story.market, story.market.gotong
    order = await market.confirmed_order(story.standard, story.demand)
    confirmed = time.perf_counter()

    async def in_pool() -> bool:
        return bool((await market.pool_state(story.pool_id))["demand"] == story.demand)

    await poll(in_pool, "the confirmed order's demand in pooling", timeout)
    recorder.lags["order confirmed → demand in pooling"].append(time.perf_counter() - confirmed)
    proposal = await market.allocate(story.pool_id, story.demand)
    asked = {a["msme_id"] for a in proposal["allocations"]}
    weavers = [w for w in story.weavers if w.msme_id in asked]

    async def pending(weaver: Weaver) -> Json:
        requests = await poll(lambda: market.requests(weaver), "a weaver's request", timeout, every=0.1)
        return requests[0]

    requests = await asyncio.gather(*(pending(w) for w in weavers))
    answers = Answers(order_id=str(order["id"]))
    started = time.perf_counter()

    async def answer(weaver: Weaver, request: Json) -> tuple[Weaver, int]:
        path, roll = f"/v1/allocation-requests/{request['id']}", rng.random()
        if roll < 0.05:
            await gotong.post(f"{path}/decline", weaver.headers, {"reason": "the harvest is late"}, expect=200)
            answers.declines += 1
            return weaver, 0
        body = {"quantity": max(1, request["quantity"] // 2)} if roll < 0.15 else {}
        taken = int((await gotong.post(f"{path}/accept", weaver.headers, body, expect=200))["accepted"])
        answers.parts += roll < 0.15
        answers.accepted += 1
        answers.accepted_units += taken
        answers.done.append((time.perf_counter(), taken))
        return weaver, taken

    watching = asyncio.create_task(_progress_lags(story, order["id"], answers, recorder, timeout))
    try:
        answered = await asyncio.gather(*(answer(w, r) for w, r in zip(weavers, requests, strict=True)))
    except BaseException:
        watching.cancel()
        raise
    answers.seconds = time.perf_counter() - started
    answers.finished = True
    await watching
    lots = [(w, units) for w, units in answered if units]
    for number, (weaver, units) in enumerate(lots):
        lot = await market.deliver(story.pool_id, weaver, units, f"LOT-{number:05d}")
        await market.inspect(story.pool_id, lot, story.standard)
    return answers


async def _progress_lags(story: Story, order_id: str, answers: Answers, recorder: Recorder, timeout: float) -> None:
    """Accept → the order line's progress in orders, watched while the weavers answer (every 0.1 s, so as not to
    load orders much): the n-th accept (by when it was answered) is seen when the line first shows at least the
    units of the first n accepts."""
    market, seen, total = story.market, 0, 0

    async def caught_up() -> bool:
        nonlocal seen, total
        finished = answers.finished  # read first: once it is, every accept the progress counts is in ``done``
        order = await market.gotong.get(f"/v1/orders/{order_id}", market.buyer)
        accepted = order["lines"][0]["progress"]["accepted"]
        now, done = time.perf_counter(), answers.done  # in the order they were answered
        while seen < len(done) and total + done[seen][1] <= accepted:
            total += done[seen][1]
            recorder.lags["allocation accepted → order progress in orders"].append(now - done[seen][0])
            seen += 1
        return finished and seen == len(done)

    await poll(caught_up, "the order's progress showing every accept", timeout, every=0.1)


async def background_reads(
    gotong: Gotong, stories: list[Story], orders: list[tuple[str, dict[str, str]]], stop: asyncio.Event
) -> int:
    """Catalog searches and order progress reads in turn until ``stop``; how many were sent."""
    rng, sent = random.Random(7), 0
    while not stop.is_set():
        category, _, noun = rng.choice(GOODS)
        province, _ = rng.choice(PLACES)
        story = rng.choice(stories)
        query = rng.choice([f"category={category}&province={province}", f"q={noun.split()[0]}", f"hs={GOODS[0][1]}"])
        await gotong.get(f"/v1/products?{query}&limit=20", story.market.aggregator)
        if orders:
            order_id, buyer = rng.choice(orders)
            await gotong.get(f"/v1/orders/{order_id}", buyer)
        sent += 2
    return sent


async def order_stream(gotong: Gotong, standard: str, count: int, concurrency: int) -> list[tuple[str, dict[str, str]]]:
    """``count`` buyers (each with an aggregator of its own) placing an order for ``standard``'s goods, quoted and
    confirmed; each order's id and its buyer's headers."""

    async def one() -> tuple[str, dict[str, str]]:
        market = Market(gotong)
        confirmed = await market.confirmed_order(standard, 100)
        # readers get the order once its read model has it (read-your-writes), not while a projection lags
        await gotong.get(f"/v1/orders/{confirmed['id']}?wait_for_position={confirmed['position']}", market.buyer)
        return str(confirmed["id"]), market.buyer

    return await bounded(concurrency, [one for _ in range(count)])
