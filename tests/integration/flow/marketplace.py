"""The whole marketplace under test: catalog, orders, pooling and quality in one runtime, talking only through
NATS, driven over HTTP by the people who use Gotong, on a clock the test moves.

The story: Jepara and Rembang teak workshops make garden chairs (HS 9403.60, wooden furniture, a commodity of the
EU deforestation regulation, so their products name the plots the timber grew on) for a Rotterdam buyer,
pooled by a Semarang trading house and inspected by a quality firm.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from litestar import Litestar
from litestar.testing import AsyncTestClient

from shared.auth import Role
from shared.kernel.clock import ManualClock
from shared.runtime import Runtime
from tests.integration.flow.bodies import CHAIR, STANDARD
from tests.support.app import token

T = TypeVar("T")
Client = AsyncTestClient[Litestar]
START = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
CHAIRS = "940360"

BUYER = token(Role.BUYER, org="rotterdam-home", sub="anke")
OTHER_BUYER = token(Role.BUYER, org="osaka-living", sub="kenji")
AGGREGATOR = token(Role.AGGREGATOR, org="semarang-trading", sub="dewi")
INSPECTOR = token(Role.INSPECTOR, org="sucofindo-qc", sub="rina")


async def eventually(check: Callable[[], Awaitable[T | None]], timeout: float = 30.0, what: str = "") -> T:
    """Poll ``check`` until it returns something truthy; fail after ``timeout`` seconds.

    A probe that fails an assertion (say a read model answering 404 while it catches up) is tried again; at
    the deadline its last failure is reported.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    failure: AssertionError | None = None
    while True:
        try:
            result = await check()
        except AssertionError as error:
            failure, result = error, None
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"did not happen within {timeout} s: {what or check}") from failure
        await asyncio.sleep(0.05)


@dataclass(frozen=True)
class Producer:
    """A teak workshop in the catalog: its MSME, its chair and who signs in for it."""

    org: str
    msme_id: str
    product_id: str
    headers: dict[str, str]


@dataclass
class Marketplace:
    client: Client
    runtime: Runtime
    clock: ManualClock
    nibs: list[str] = field(default_factory=list)

    # --- plumbing ---------------------------------------------------------------------------------------

    async def eventually(self, check: Callable[[], Awaitable[T | None]], what: str) -> T:
        """``eventually``, failing with where the runtime's consumers stood: a step that did not happen in time is
        traced to the one that stood still."""
        try:
            return await eventually(check, what=what)
        except AssertionError as late:
            raise AssertionError(f"{late}\n{self.consumers_state()}") from late.__cause__

    def consumers_state(self) -> str:
        runtime = self.runtime
        lines = [f"tasks down: {sorted(runtime.down) or 'none'}"]
        for consumer in runtime.consumers:
            lines.append(
                f"{consumer.durable}: handled {consumer.handled}, holding {len(consumer._holding)}, "
                f"leased {consumer.leased.is_set()}, caught up {consumer.caught_up.is_set()}"
            )
        return "\n".join(lines)

    def later(self, hours: float = 1) -> None:
        """Time passes between steps, so each service's events carry their own moment."""
        self.clock.advance(timedelta(hours=hours))

    async def call(self, method: str, path: str, headers: dict[str, str], expect: int = 200, **kw: Any) -> Any:
        response = await self.client.request(method, path, headers=headers, **kw)
        assert response.status_code == expect, f"{method} {path}: {response.status_code} {response.text}"
        return response.json()

    async def get(self, path: str, headers: dict[str, str]) -> Any:
        return await self.call("GET", path, headers)

    async def post(self, path: str, body: Any, headers: dict[str, str], expect: int = 201) -> Any:
        return await self.call("POST", path, headers, expect, json=body)

    # --- quality ----------------------------------------------------------------------------------------

    async def publish_standard(self) -> str:
        standard: dict[str, Any] = await self.post("/v1/standards", STANDARD, INSPECTOR)
        return str(standard["id"])

    async def qualify(self, producer: Producer, standard_id: str) -> None:
        """A first article of the producer's chair meets the standard, which qualifies the MSME."""
        body = {
            "kind": "first_article",
            "msme_id": producer.msme_id,
            "product_id": producer.product_id,
            "standard_id": standard_id,
            "standard_version": 1,
            "sample_size": 5,
        }
        opened = await self.post("/v1/inspections", body, INSPECTOR)
        judged = await self.post(
            f"/v1/inspections/{opened['id']}/results", {"defects": {"critical": 0, "major": 0, "minor": 0}}, INSPECTOR
        )
        assert judged["status"] == "accepted", judged

    async def inspect(
        self, pool_id: str, lot: dict[str, Any], standard_id: str, major: int = 0, inspector: dict[str, str] = INSPECTOR
    ) -> dict[str, Any]:
        """Open an inspection of a lot pooling received and record its defects: the verdict follows."""
        body = {
            "msme_id": lot["msme_id"],
            "standard_id": standard_id,
            "standard_version": 1,
            "lot_id": lot["lot_id"],
            "pool_id": pool_id,
            "lot_size": lot["quantity"],
        }
        opened = await self.post("/v1/inspections", body, inspector)
        results = {
            "defects": {"critical": 0, "major": major, "minor": 0},
            "measurements": [{"attribute": "seat height", "values": ["45.2", "44.8", "45.0"]}],
        }
        judged: dict[str, Any] = await self.post(f"/v1/inspections/{opened['id']}/results", results, inspector)
        return judged

    # --- catalog ----------------------------------------------------------------------------------------

    async def producer(
        self,
        org: str,
        standard_id: str,
        *,
        name: str,
        city: str = "Jepara",
        province: str = "Jawa Tengah",
        price: str = "38.00",
        capacity: dict[str, int] | None = None,
        plots: list[dict[str, Any]] | None = None,
        certifications: list[dict[str, Any]] | None = None,
    ) -> Producer:
        """An MSME user registers its workshop, certificates, chair (with origin plots) and monthly capacity."""
        headers = token(Role.MSME, org=org, sub=f"owner-{org}")
        nib = f"{9120000000000 + len(self.nibs) + 1}"
        self.nibs.append(nib)
        msme = await self.post(
            "/v1/msmes",
            {
                "name": name,
                "nib": nib,
                "province": province,
                "city": city,
                "contact": {"name": "Pak Slamet", "phone": "+62 291 555 0100"},
                "size_class": "small",
            },
            headers,
        )
        for certificate in certifications or []:
            await self.post(f"/v1/msmes/{msme['id']}/certifications", certificate, headers)
        chair = {**CHAIR, "price_tiers": [{"min_quantity": 10, "unit_price": {"amount": price, "currency": "USD"}}]}
        chair |= {"standards": [{"standard_id": standard_id, "version": 1}], "origin_plots": plots or []}
        product = await self.post(f"/v1/msmes/{msme['id']}/products", chair, headers)
        months = capacity or {"2027-02": 400, "2027-03": 400}
        await self.call("PUT", f"/v1/products/{product['id']}/capacity", headers, json={"months": months})
        return Producer(org, str(msme["id"]), str(product["id"]), headers)

    async def product(self, producer: Producer) -> dict[str, Any]:
        body: dict[str, Any] = await self.get(f"/v1/products/{producer.product_id}", producer.headers)
        return body

    async def committed(self, producer: Producer, month: str) -> int:
        capacity = {m["month"]: m for m in (await self.product(producer))["capacity"]}
        return int(capacity[month]["committed"]) if month in capacity else 0

    # --- orders -----------------------------------------------------------------------------------------

    async def register_buyer(self, headers: dict[str, str] = BUYER, name: str = "Rotterdam Home B.V.") -> None:
        body = {"name": name, "country": "NL", "contacts": [{"name": "Anke", "email": "buying@example.nl"}]}
        await self.post("/v1/buyers", body, headers)

    async def confirmed_order(
        self, standard_id: str, quantities: list[int], *, buyer: dict[str, str] = BUYER, required_by: str = "2027-05-28"
    ) -> dict[str, Any]:
        """The buyer asks for chairs, the aggregator quotes and the buyer confirms."""
        lines = [
            {
                "hs_code": CHAIRS,
                "category": "garden furniture",
                "description": f"teak garden chair, oiled, lot {n + 1}",
                "standard_id": standard_id,
                "standard_version": 1,
                "quantity": quantity,
                "unit": "PCE",
                "target_unit_price": {"amount": "45.00", "currency": "USD"},
            }
            for n, quantity in enumerate(quantities)
        ]
        body = {
            "lines": lines,
            "incoterm": "FOB",
            "destination_country": "NL",
            "destination_port": "NLRTM",
            "loading_port": "IDSRG",
            "required_by": required_by,
        }
        order = await self.post("/v1/orders", body, buyer)
        quote = {
            "lines": [
                {"line_id": line["line_id"], "unit_price": {"amount": "44.00", "currency": "USD"}}
                for line in order["lines"]
            ],
            "lead_time_days": 90,
            "valid_until": (self.clock.now() + timedelta(days=7)).isoformat(),
        }
        await self.post(f"/v1/orders/{order['id']}/quote", quote, AGGREGATOR, expect=200)
        confirmed = await self.post(f"/v1/orders/{order['id']}/confirm", None, buyer, expect=200)
        # read your own write: the order's read model includes the confirmation before anyone reads it
        seen: dict[str, Any] = await self.get(
            f"/v1/orders/{order['id']}?wait_for_position={confirmed['position']}", buyer
        )
        assert seen["state"] == "confirmed"
        return seen

    async def order(self, order_id: str, headers: dict[str, str] = BUYER) -> dict[str, Any]:
        body: dict[str, Any] = await self.get(f"/v1/orders/{order_id}", headers)
        return body

    async def order_where(
        self, order_id: str, check: Callable[[dict[str, Any]], bool], what: str, headers: dict[str, str] = BUYER
    ) -> dict[str, Any]:
        async def probe() -> dict[str, Any] | None:
            order = await self.order(order_id, headers)
            return order if check(order) else None

        return await self.eventually(probe, what=what)

    async def history(self, order_id: str, headers: dict[str, str] = BUYER) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = (await self.get(f"/v1/orders/{order_id}/history", headers))["items"]
        return items

    # --- pooling ----------------------------------------------------------------------------------------

    async def open_pool(self, standard_id: str) -> str:
        body = {
            "name": "Teak garden chairs for Rotterdam",
            "hs_code": CHAIRS,
            "standard_id": standard_id,
            "standard_version": 1,
            "unit": "PCE",
            "currency": "USD",
            "consolidation_point": "Semarang",
            "inspector_orgs": ["sucofindo-qc"],
        }
        pool = await self.post("/v1/pools", body, AGGREGATOR)
        return str(pool["id"])

    async def pool(self, pool_id: str) -> dict[str, Any]:
        body: dict[str, Any] = await self.get(f"/v1/pools/{pool_id}", AGGREGATOR)
        return body

    async def pool_where(self, pool_id: str, check: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
        async def probe() -> dict[str, Any] | None:
            pool = await self.pool(pool_id)
            return pool if check(pool) else None

        return await self.eventually(probe, what=what)

    async def allocate(self, pool_id: str, *, msmes: int, expires_in: int = 48 * 3600) -> dict[str, Any]:
        """Run the engine until it sees every producer (pooling learns them from catalog and quality events
        on their own time), then send the proposal's requests."""

        async def complete() -> dict[str, Any] | None:
            proposal: dict[str, Any] = await self.post(f"/v1/pools/{pool_id}/allocate", {}, AGGREGATOR)
            seen = len(proposal["allocations"]) + len(proposal["excluded"])
            return proposal if proposal["shortfall"] == 0 and seen >= msmes else None

        proposal = await self.eventually(complete, what="the engine covers the pool's demand")
        sent: dict[str, Any] = await self.post(
            f"/v1/pools/{pool_id}/proposals/{proposal['id']}/approve", {"expires_in": expires_in}, AGGREGATOR
        )
        return sent

    async def requests(self, producer: Producer, status: str = "pending") -> list[dict[str, Any]]:
        page = await self.get(f"/v1/allocation-requests?status={status}", producer.headers)
        items: list[dict[str, Any]] = page["items"]
        return items

    async def request_for(self, producer: Producer, status: str = "pending") -> dict[str, Any]:
        async def one() -> dict[str, Any] | None:
            items = await self.requests(producer, status)
            return items[0] if items else None

        return await self.eventually(one, what=f"a {status} request for {producer.org}")

    async def accept(self, producer: Producer) -> dict[str, Any]:
        request = await self.request_for(producer)
        accepted: dict[str, Any] = await self.post(
            f"/v1/allocation-requests/{request['id']}/accept", {}, producer.headers, expect=200
        )
        return accepted

    async def deliver(self, pool_id: str, producer: Producer, quantity: int, code: str) -> dict[str, Any]:
        body = {"msme_id": producer.msme_id, "quantity": quantity, "lot_code": code, "delivered_on": "2027-03-15"}
        lot: dict[str, Any] = await self.post(f"/v1/pools/{pool_id}/lots", body, producer.headers)
        return lot

    async def ship(self, pool_id: str) -> dict[str, Any]:
        consignment: dict[str, Any] = await self.post(f"/v1/pools/{pool_id}/ship", {}, AGGREGATOR)
        return consignment
