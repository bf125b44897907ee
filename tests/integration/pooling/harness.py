"""Pooling under test: the service over HTTP with a manual clock, fed by catalog, orders and quality events
published for real through their JetStream streams."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

import asyncpg
import httpx
import uvicorn
from nats.js import JetStreamContext

from events import catalog, orders, quality
from events.base import Event, EventCodec
from events.common import Money, PriceTier
from events.pooling import CODEC
from services.pooling.app import service
from shared import bus
from shared.auth import Role
from shared.cli import KEEP_ALIVE
from shared.eventstore import EventStore
from shared.http import create_app
from shared.kernel.clock import ManualClock
from shared.kernel.ids import new_id
from shared.migrations import migrate
from shared.relay import Relay
from shared.runtime import Runtime
from tests.support.app import settings_for, token
from tests.support.standards import published_standard, until_known

T = TypeVar("T")
START = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
RATTAN = "460219"
AGGREGATOR_ORG = "nusantara-trading"
AGGREGATOR = token(Role.AGGREGATOR, org=AGGREGATOR_ORG, sub="ana")


async def eventually(check: Callable[[], Awaitable[T | None]], timeout: float = 20.0) -> T:
    """Poll ``check`` until it returns something truthy (bounded; fails the test on timeout)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("the expected effect did not happen in time")
        await asyncio.sleep(0.05)


@dataclass
class Upstream:
    """Another service's event store in the test database, relayed to its JetStream stream."""

    store: EventStore
    relay: Relay
    database_url: str
    versions: dict[str, int] = field(default_factory=dict)

    async def publish(self, stream_id: str, *events: Event) -> None:
        """Append to the stream and relay until every event appended so far is on JetStream (an event
        becomes readable only once no older transaction is open, so one pass may not be enough)."""
        version = self.versions.get(stream_id, 0)
        await self.store.append(stream_id, stream_id.split("-")[0], version, list(events))
        self.versions[stream_id] = version + len(events)
        appended = sum(self.versions.values())
        connection = await asyncpg.connect(self.database_url)
        try:

            async def relayed() -> bool:
                await self.relay.publish_batch(connection)
                return self.relay.published >= appended

            await eventually(relayed)
        finally:
            await connection.close()


@dataclass
class Pooling:
    client: httpx.AsyncClient
    runtime: Runtime
    clock: ManualClock
    catalog: Upstream
    orders: Upstream
    quality: Upstream
    db: asyncpg.Pool
    standard_id: UUID = field(default_factory=new_id)

    @property
    def store(self) -> EventStore:
        """Pooling's event store on the test's own connections: the command layer without HTTP."""
        return EventStore(self.db, "pooling", CODEC)

    async def msme(
        self,
        org: str,
        *,
        city: str = "Cirebon",
        capacity: dict[str, int] | None = None,
        price: str = "4.00",
        moq: int = 1,
        qualified: bool = True,
        score: float = 0.9,
        lead_time_days: int = 14,
        hs_code: str = RATTAN,
    ) -> tuple[UUID, UUID]:
        """Register an MSME with one product (rattan baskets unless ``hs_code`` says otherwise), its monthly
        capacity and (if qualified) its quality record."""
        msme_id, product_id, at = new_id(), new_id(), self.clock.now()
        await self.catalog.publish(
            f"msme-{msme_id}",
            catalog.MsmeRegistered(
                msme_id=msme_id, org=org, name=f"Rotan {org}", nib=str(msme_id.int)[:13], province="Jawa Barat",
                city=city, contact=catalog.Contact(name="Siti"), size_class="small", registered_by=org, at=at,
            ),
        )  # fmt: skip
        listed = catalog.ProductListed(
            product_id=product_id, msme_id=msme_id, org=org, sku="BSK-01", name="Rattan basket", description="",
            hs_code=hs_code, category="handicraft", unit="PCE", moq=moq,
            price_tiers=[PriceTier(min_quantity=1, unit_price=Money(amount=Decimal(price), currency="USD"))],
            currency="USD", lead_time_days=lead_time_days,
            standards=[catalog.StandardRef(standard_id=self.standard_id, version=1)], at=at,
        )  # fmt: skip
        declared = [
            catalog.CapacityDeclared(product_id=product_id, msme_id=msme_id, month=month, units=units, at=at)
            for month, units in (capacity or {"2027-02": 1_000}).items()
        ]
        await self.catalog.publish(f"product-{product_id}", listed, *declared)
        if qualified:
            await self.assess(msme_id, qualified=True, score=score)
        return msme_id, product_id

    async def assess(self, msme_id: UUID, *, qualified: bool, score: float) -> None:
        await self.quality.publish(
            f"msme-standard:{msme_id}:{self.standard_id}",
            quality.MsmeQualityAssessed(
                msme_id=msme_id, standard_id=self.standard_id, standard_version=1, qualified=qualified,
                severity="normal", discontinued=False, score=score, score_method="test", lots_accepted=3,
                lots_rejected=0, qualification_lots=3, classes=[], switching_score=0, recent_lots=[],
                consecutive_accepted=3, rejected_on_tightened=0, cause="test", at=self.clock.now(),
            ),
        )  # fmt: skip

    async def confirm_order(
        self,
        quantities: list[int],
        *,
        required_by: date = date(2027, 4, 1),
        aggregator: str = AGGREGATOR_ORG,
        hs_code: str = RATTAN,
    ) -> tuple[UUID, list[UUID]]:
        order_id = new_id()
        lines = [
            orders.ConfirmedLine(
                line_id=new_id(), hs_code=hs_code, category="handicraft", description="basket",
                standard_id=self.standard_id, standard_version=1, quantity=q, unit="PCE",
                target_unit_price=Money(amount=Decimal("5"), currency="USD"),
                quoted_unit_price=Money(amount=Decimal("6"), currency="USD"),
            )
            for q in quantities
        ]  # fmt: skip
        await self.orders.publish(
            f"order-{order_id}",
            orders.OrderConfirmed(
                order_id=order_id, buyer_org="rotterdam-home", aggregator_org=aggregator, quote_number=1,
                lines=lines, incoterm="FOB", destination_country="NL", required_by=required_by, lead_time_days=30,
                confirmed_by="buyer:jan", confirmed_at=self.clock.now(),
            ),
        )  # fmt: skip
        return order_id, [line.line_id for line in lines]

    async def open_pool(self, **overrides: Any) -> dict[str, Any]:
        body = {
            "name": "Rattan baskets for Rotterdam",
            "hs_code": RATTAN,
            "standard_id": str(self.standard_id),
            "standard_version": 1,
            "unit": "PCE",
            "currency": "USD",
            "consolidation_point": "Semarang",
            **overrides,
        }
        response = await self.client.post("/v1/pools", json=body, headers=AGGREGATOR)
        assert response.status_code == 201, response.text
        pool: dict[str, Any] = response.json()
        await self.client.get(f"/v1/pools?wait_for_position={pool['position']}", headers=AGGREGATOR)
        return pool

    async def get(self, path: str, headers: dict[str, str] = AGGREGATOR) -> Any:
        response = await self.client.get(path, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    async def pool_where(self, pool_id: str, check: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        async def probe() -> dict[str, Any] | None:
            pool: dict[str, Any] = await self.get(f"/v1/pools/{pool_id}")
            return pool if check(pool) else None

        return await eventually(probe)


async def _upstream(pool: asyncpg.Pool, js: JetStreamContext, url: str, prefix: str, codec: EventCodec) -> Upstream:
    async with pool.acquire() as connection:
        await migrate(connection, codec.service, [])
    store = EventStore(pool, codec.service, codec)
    return Upstream(store, Relay(store, url, js, prefix), url)


@asynccontextmanager
async def http_server(app: Any, *, access_log: bool = False) -> AsyncIterator[httpx.AsyncClient]:
    """Serve ``app`` with uvicorn on this event loop and a free port, so requests really run concurrently."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            app, lifespan="on", log_config=None, ws="none", access_log=access_log, timeout_keep_alive=KEEP_ALIVE
        )
    )
    task = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        await eventually(lambda: _started(server, task), timeout=30)
        limits = httpx.Limits(max_connections=200)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60, limits=limits) as client:
            yield client
    finally:
        server.should_exit = True
        await task
        listener.close()


async def _started(server: uvicorn.Server, task: asyncio.Task[None]) -> bool:
    if task.done():
        task.result()  # surfaces a failed start
    return server.started


@asynccontextmanager
async def running_pooling(database_url: str, nats_url: str, prefix: str, db: asyncpg.Pool) -> AsyncIterator[Pooling]:
    """Pooling served over HTTP on this event loop, with this test's pool (``db``) and NATS feeding it."""
    clock = ManualClock(START)
    settings = settings_for(database_url, nats_url, prefix)
    runtime = Runtime(settings, [service], clock=clock)
    nats = await bus.connect(nats_url)
    try:
        async with http_server(create_app(settings, [service], runtime=runtime)) as client:
            js = nats.jetstream()
            feeds = [
                await _upstream(db, js, database_url, prefix, c) for c in (catalog.CODEC, orders.CODEC, quality.CODEC)
            ]
            standard_id = new_id()
            await feeds[2].publish(f"standard-{standard_id}", *published_standard(standard_id))
            await until_known(settings, ["pooling"], {standard_id: 1})
            yield Pooling(
                client,
                runtime,
                clock,
                catalog=feeds[0],
                orders=feeds[1],
                quality=feeds[2],
                db=db,
                standard_id=standard_id,
            )
    finally:
        await nats.close()


def later(clock: ManualClock, seconds: float) -> None:
    clock.advance(timedelta(seconds=seconds))
