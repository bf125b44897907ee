"""The marketplace's people calling Gotong's services over HTTP, each request sent to the process serving it
(found from each process's OpenAPI document), on the real clock."""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

import httpx

from shared.auth import Role
from shared.kernel.ids import new_id
from tests.support.app import token

T = TypeVar("T")
Json = Any
WAIT = 45.0
RATTAN = "460212"
_serials = itertools.count(1)


async def eventually(check: Callable[[], Awaitable[T | None]], what: str, timeout: float = WAIT) -> T:
    """Poll ``check`` until it answers; fail after ``timeout`` seconds (events cross processes through NATS)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"did not happen within {timeout:.0f} s: {what}")
        await asyncio.sleep(0.1)


def months_ahead(count: int, today: date | None = None) -> list[str]:
    """The ``count`` calendar months after this one (capacity is declared for future months only)."""
    today = today or datetime.now(UTC).date()
    year, month, months = today.year, today.month, []
    for _ in range(count):
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        months.append(f"{year:04d}-{month:02d}")
    return months


def required_by() -> str:
    """The 25th of the fourth month from now: the three declared months all fall in the production window."""
    last = months_ahead(4)[-1]
    return f"{last}-25"


@dataclass(frozen=True)
class Weaver:
    org: str
    msme_id: str
    product_id: str
    headers: dict[str, str]


class Gotong:
    """One client per service process; a request goes to the process whose OpenAPI document has its path."""

    def __init__(self, client: httpx.AsyncClient, routes: list[tuple[re.Pattern[str], str]]) -> None:
        self.client = client
        self.routes = routes

    @classmethod
    async def of(cls, client: httpx.AsyncClient, urls: Mapping[str, str]) -> Gotong:
        routes: list[tuple[re.Pattern[str], str]] = []
        for name, url in urls.items():
            document = (await client.get(f"{url}/schema/openapi.json")).json()
            for path, item in document["paths"].items():
                # every process documents the whole API: its own routes are those tagged with its service
                own = any(
                    name in operation.get("tags", []) for operation in item.values() if isinstance(operation, dict)
                )
                if path.startswith("/v1/") and own:
                    routes.append((re.compile("^" + re.sub(r"\{[^/]+\}", "[^/]+", path) + "$"), url))
        return cls(client, routes)

    def url_of(self, path: str) -> str:
        bare = path.split("?")[0]
        matches = [url for pattern, url in self.routes if pattern.match(bare)]
        assert len(set(matches)) == 1, f"{bare} is served by {matches or 'no process'}"
        return matches[0] + path

    async def call(self, method: str, path: str, headers: dict[str, str], body: Json = None, expect: int = 200) -> Json:
        response = await self.client.request(method, self.url_of(path), json=body, headers=headers)
        assert response.status_code == expect, f"{method} {path}: {response.status_code} {response.text}"
        return response.json()

    async def get(self, path: str, headers: dict[str, str]) -> Json:
        return await self.call("GET", path, headers)

    async def post(self, path: str, headers: dict[str, str], body: Json = None, expect: int = 201) -> Json:
        return await self.call("POST", path, headers, {} if body is None else body, expect)


@dataclass
class Market:
    """One story's people: its own buyer, aggregator and inspector organisations, so stories never meet."""

    gotong: Gotong
    story: str = field(default_factory=lambda: new_id().hex[-8:])
    answered: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.buyer = token(Role.BUYER, org=f"rotterdam-{self.story}", sub="jan")
        self.aggregator = token(Role.AGGREGATOR, org=f"cirebon-trading-{self.story}", sub="ana")
        self.inspector = token(Role.INSPECTOR, org=f"mutu-qc-{self.story}", sub="rini")

    async def standard(self) -> str:
        body = {
            "name": f"Rattan basket, export grade ({self.story})",
            "defect_classes": [{"defect_class": "major", "aql": "2.5"}, {"defect_class": "minor", "aql": "4.0"}],
            "attributes": [{"name": "diameter", "unit": "cm", "nominal": "30", "lower_tolerance": "1",
                            "upper_tolerance": "1"}],
            "publish": True,
        }  # fmt: skip
        return str((await self.gotong.post("/v1/standards", self.inspector, body))["id"])

    async def weaver(self, standard: str, *, price: str, monthly: int, city: str = "Cirebon") -> Weaver:
        """An MSME registers, lists its basket made to ``standard``, declares ``monthly`` units for three months
        and passes a first-article inspection."""
        serial = next(_serials)
        org = f"weaver-{self.story}-{serial}"
        headers = token(Role.MSME, org=org, sub="siti")
        msme = await self.gotong.post(
            "/v1/msmes",
            headers,
            {"name": f"Rotan {city} {serial}", "nib": f"{int(new_id().int % 10**13):013d}", "province": "Jawa Barat",
             "city": city, "contact": {"name": "Siti", "phone": "+62 231 555 0100"}, "size_class": "small"},
        )  # fmt: skip
        product = await self.gotong.post(
            f"/v1/msmes/{msme['id']}/products",
            headers,
            {"sku": "RTN-30", "name": "Round rattan basket 30 cm", "hs_code": "4602.12", "category": "homeware",
             "unit": "PCE", "moq": 50, "lead_time_days": 14,
             "price_tiers": [{"min_quantity": 1, "unit_price": {"amount": price, "currency": "USD"}}],
             "standards": [{"standard_id": standard, "version": 1}]},
        )  # fmt: skip
        capacity = {"months": dict.fromkeys(months_ahead(3), monthly)}
        await self.gotong.call("PUT", f"/v1/products/{product['id']}/capacity", headers, capacity)
        weaver = Weaver(org, str(msme["id"]), str(product["id"]), headers)
        first_article = {"kind": "first_article", "msme_id": weaver.msme_id, "product_id": weaver.product_id,
                         "standard_id": standard, "standard_version": 1, "sample_size": 5}  # fmt: skip
        opened = await self.gotong.post("/v1/inspections", self.inspector, first_article)
        judged = await self.gotong.post(
            f"/v1/inspections/{opened['id']}/results", self.inspector, {"defects": {"major": 0, "minor": 0}}
        )
        assert judged["status"] == "accepted", judged
        return weaver

    async def pool(self, standard: str) -> str:
        body = {"name": "Rattan baskets", "hs_code": RATTAN, "standard_id": standard, "standard_version": 1,
                "unit": "PCE", "currency": "USD", "consolidation_point": "IDSRG"}  # fmt: skip
        pool = await self.gotong.post("/v1/pools", self.aggregator, body)
        await self.gotong.get(f"/v1/pools?wait_for_position={pool['position']}", self.aggregator)
        return str(pool["id"])

    async def confirmed_order(self, standard: str, quantity: int) -> Json:
        """The buyer registers, asks for ``quantity`` baskets; the aggregator quotes; the buyer confirms."""
        body = {"name": f"Rotterdam Living {self.story}", "country": "NL",
                "contacts": [{"name": "Jan de Vries", "email": "jan@example.nl"}]}  # fmt: skip
        await self.gotong.post("/v1/buyers", self.buyer, body)
        line = {"hs_code": RATTAN, "category": "homeware", "description": "round rattan basket 30 cm",
                "standard_id": standard, "standard_version": 1, "quantity": quantity, "unit": "PCE",
                "target_unit_price": {"amount": "4.80", "currency": "USD"}}  # fmt: skip
        order = await self.gotong.post(
            "/v1/orders",
            self.buyer,
            {"lines": [line], "incoterm": "FOB", "destination_country": "NL", "destination_port": "NLRTM",
             "loading_port": "IDSRG", "required_by": required_by()},
        )  # fmt: skip
        quote = {
            "lines": [{"line_id": order["lines"][0]["line_id"], "unit_price": {"amount": "5.10", "currency": "USD"}}],
            "lead_time_days": 90,
            "valid_until": (datetime.now(UTC) + timedelta(days=7)).isoformat(),
        }
        await self.gotong.post(f"/v1/orders/{order['id']}/quote", self.aggregator, quote, expect=200)
        return await self.gotong.post(f"/v1/orders/{order['id']}/confirm", self.buyer, expect=200)

    async def pool_state(self, pool_id: str) -> Json:
        return await self.gotong.get(f"/v1/pools/{pool_id}", self.aggregator)

    async def pool_where(self, pool_id: str, check: Callable[[Json], bool], what: str, timeout: float = WAIT) -> Json:
        async def probe() -> Json | None:
            pool = await self.pool_state(pool_id)
            return pool if check(pool) else None

        return await eventually(probe, what, timeout)

    async def order_where(self, order_id: str, check: Callable[[Json], bool], what: str) -> Json:
        async def probe() -> Json | None:
            order = await self.gotong.get(f"/v1/orders/{order_id}", self.buyer)
            return order if check(order) else None

        return await eventually(probe, what)

    async def allocate(self, pool_id: str, quantity: int, *, expires_in: int = 48 * 3600) -> Json:
        """Propose until pooling (which learns weavers from catalog and quality events) covers the demand,
        then approve the proposal. Its requests, and those of later re-allocations, expire after ``expires_in``
        seconds."""

        async def covering() -> Json | None:
            body = {"expires_in": expires_in}
            proposal: Json = await self.gotong.post(f"/v1/pools/{pool_id}/allocate", self.aggregator, body)
            return proposal if proposal["allocated"] == quantity else None

        proposal = await eventually(covering, "a proposal covering the demand")
        await self.gotong.post(f"/v1/pools/{pool_id}/proposals/{proposal['id']}/approve", self.aggregator)
        return proposal

    async def requests(self, weaver: Weaver, status: str = "pending") -> list[Json]:
        items: list[Json] = (await self.gotong.get(f"/v1/allocation-requests?status={status}", weaver.headers))["items"]
        return items

    async def accept_all(self, weaver: Weaver) -> int:
        """The weaver accepts every request pending for it; how many units it took. (The list is a read model
        that may still show a request just accepted as pending: each is accepted once.)"""
        taken = 0
        for request in await self.requests(weaver):
            if request["id"] in self.answered:
                continue
            self.answered.add(request["id"])
            path = f"/v1/allocation-requests/{request['id']}/accept"
            taken += (await self.gotong.post(path, weaver.headers, expect=200))["accepted"]
        return taken

    async def deliver(self, pool_id: str, weaver: Weaver, quantity: int, code: str) -> Json:
        body = {"msme_id": weaver.msme_id, "quantity": quantity, "lot_code": code,
                "delivered_on": datetime.now(UTC).date().isoformat()}  # fmt: skip
        return await self.gotong.post(f"/v1/pools/{pool_id}/lots", weaver.headers, body)

    async def inspect(self, pool_id: str, lot: Json, standard: str, *, reject: bool = False) -> Json:
        """The inspector samples the lot; ``reject`` records as many major defects as the plan's Re."""
        body = {"kind": "lot", "msme_id": lot["msme_id"], "standard_id": standard, "standard_version": 1,
                "lot_id": lot["lot_id"], "pool_id": pool_id, "lot_size": lot["quantity"]}  # fmt: skip
        opened = await self.gotong.post("/v1/inspections", self.inspector, body)
        plans = {plan["defect_class"]: plan for plan in opened["plans"]}
        results = {"defects": {"major": plans["major"]["reject"] if reject else 1, "minor": 0},
                   "measurements": [{"attribute": "diameter", "values": ["29.8", "30.1", "30.4"]}]}  # fmt: skip
        return await self.gotong.post(f"/v1/inspections/{opened['id']}/results", self.inspector, results)

    async def committed(self, weaver: Weaver) -> int:
        """Units of the weaver's capacity that catalog shows as committed, over the declared months."""
        product = await self.gotong.get(f"/v1/products/{weaver.product_id}", weaver.headers)
        return sum(month["committed"] for month in product["capacity"])
