"""`gotong demo`: seed a marketplace through the public API and run one bulk order from request to shipment.

Against a running `gotong dev` (tokens minted with its development secret). Every run registers its own
MSMEs, NIBs and standards, so the demo can be run again and again on the same servers.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, TextIO

import httpx

from demo.client import DemoError, Json, Marketplace, eventually
from demo.data import RATTAN, months_ahead, producers
from demo.flow import PoolWork
from demo.messages import add_contacts, serve_fake, show_messages
from demo.report import other_orders, print_provenance
from demo.seed import (
    CAPACITY_MONTHS,
    Cast,
    Supplier,
    cast_of,
    publish_standards,
    qualify_weavers,
    register_buyers,
    register_msmes,
)
from shared.auth import TokenAuthority

MAX_ORDER = 20_000
ORDER_SHARE_OF_CAPACITY = Decimal("0.3")
QUOTED_PRICE = "5.15"
TARGET_PRICE = "4.95"


@dataclass
class Story:
    market: Marketplace
    cast: Cast
    out: TextIO
    run: str
    today: date
    started: float
    step: int = 0

    def heading(self, text: str) -> None:
        self.step += 1
        elapsed = time.monotonic() - self.started
        print(f"\n[{self.step:>2}] {text}  (+{elapsed:.1f} s)", file=self.out, flush=True)

    def say(self, text: str) -> None:
        print(f"    {text}", file=self.out, flush=True)

    async def order_state(self, order_id: str, wanted: str, timeout: float = 30.0) -> None:
        """Wait (bounded) until the buyer sees the order in ``wanted``: orders learns it from pooling's events."""
        buyer = self.cast.buyers["rotterdam-living"]

        async def reached() -> bool:
            return bool((await self.market.get(f"/v1/orders/{order_id}", buyer))["state"] == wanted)

        await eventually(reached, f"the buyer to see the order {wanted.replace('_', ' ')}", timeout)
        self.say(f"the buyer sees the order: {wanted.replace('_', ' ')}")


async def run(market: Marketplace, msmes: int, out: TextIO) -> None:
    run_id = secrets.token_hex(3)
    rng = random.Random(run_id)
    today = datetime.now(UTC).date()
    story = Story(market, cast_of(market), out, run_id, today, time.monotonic())
    cast = story.cast
    await market.ready()
    print(f"Gotong demo, run {run_id}, at {market.client.base_url}", file=out)

    story.heading("The inspector publishes a quality standard for each craft")
    await publish_standards(market, cast, run_id)
    story.say(", ".join(sorted(cast.standards)))

    story.heading("Buyers in Rotterdam, Osaka, Dubai and Los Angeles register")
    fresh = await register_buyers(market, cast)
    story.say(f"{fresh} newly registered, {len(cast.buyers) - fresh} already known from an earlier run")

    story.heading(f"{msmes} MSMEs across Indonesia's export hubs join the catalog")
    await register_msmes(market, cast, producers(run_id, msmes, rng), today)
    by_city: dict[str, int] = {}
    for supplier in cast.suppliers.values():
        by_city[supplier.producer.city] = by_city.get(supplier.producer.city, 0) + 1
    story.say(", ".join(f"{city} {n}" for city, n in sorted(by_city.items(), key=lambda x: -x[1])))

    story.heading("The inspector checks a first article from every rattan weaver")
    approved, rejected = await qualify_weavers(market, cast)
    story.say(f"{len(approved)} qualified; not qualified: {', '.join(w.producer.name for w in rejected)}")

    story.heading("The weavers' production leads agree to get allocation requests on WhatsApp")
    await add_contacts(market, approved)
    story.say(f"{len(approved)} contacts, opted in, in Bahasa Indonesia")

    story.heading("Rotterdam Living asks for rattan baskets; the aggregator opens a pool, quotes, the buyer confirms")
    order, pool = await place_order(story, approved)
    await other_orders(market, cast, today, story.say)

    story.heading("The allocation engine splits the order across qualified weavers")
    await allocate(story, pool["id"], order, approved, rejected)

    work = PoolWork(market, cast, pool["id"], cast.standards[RATTAN.key], today, rng, out, run_id)
    story.heading("Weavers answer: one declines, pooling re-allocates its share by itself")
    await work.until(lambda p: p["accepted"] >= p["demand"], "every unit to be accepted", deliver=False)
    await story.order_state(order["id"], "in_production")

    story.heading("Lots arrive at Semarang and are inspected by ISO 2859-1; a rejected lot is replaced")
    filled = await work.until(lambda p: p["status"] == "filled", "the pool to be filled", deliver=True, timeout=180)
    story.say(f"{filled['passed']:,} {filled['unit']} passed inspection in {len(filled['lots'])} lots")
    await story.order_state(order["id"], "inspected")

    story.heading("The consignment ships from Semarang to Rotterdam")
    shipped = await market.post(f"/v1/pools/{pool['id']}/ship", cast.aggregator, {})
    story.say(f"consignment {shipped['id']}: {shipped['quantity']:,} {filled['unit']} in {len(shipped['lots'])} lots")
    await story.order_state(order["id"], "shipped")

    story.heading("What the buyer sees: the order's history and the provenance of what shipped")
    await print_provenance(market, cast, order["id"], story.say)

    story.heading("What the weavers were told on WhatsApp (the delivery log)")
    await show_messages(market, approved, story.say)
    elapsed = time.monotonic() - story.started
    print(f"\nDone in {elapsed:.1f} s with {market.calls:,} API calls.", file=out, flush=True)


async def place_order(story: Story, approved: list[Supplier]) -> tuple[Json, Json]:
    market, cast, today = story.market, story.cast, story.today
    required_by = _required_by(today)
    capacity = sum(s.producer.monthly_units for s in approved) * CAPACITY_MONTHS
    quantity = min(MAX_ORDER, int(capacity * ORDER_SHARE_OF_CAPACITY) // 100 * 100)
    standard = str(cast.standards[RATTAN.key])
    pool = await market.post(
        "/v1/pools",
        cast.aggregator,
        {
            "name": f"Rattan baskets 30 cm, Tanjung Emas ({story.run})",
            "hs_code": RATTAN.hs_code,
            "standard_id": standard,
            "standard_version": 1,
            "unit": "PCE",
            "currency": "USD",
            "consolidation_point": "IDSRG",
        },
    )
    await market.get(f"/v1/pools?wait_for_position={pool['position']}", cast.aggregator)
    buyer = cast.buyers["rotterdam-living"]
    line = {
        "hs_code": RATTAN.hs_code,
        "category": RATTAN.category,
        "description": "Round rattan basket, 30 cm, natural finish",
        "attributes": {"diameter": "30 cm", "finish": "natural", "packing": "nested, 10 per carton"},
        "standard_id": standard,
        "standard_version": 1,
        "quantity": quantity,
        "unit": "PCE",
        "target_unit_price": {"amount": TARGET_PRICE, "currency": "USD"},
    }
    order = await market.post(
        "/v1/orders",
        buyer,
        {
            "lines": [line],
            "incoterm": "FOB",
            "destination_country": "NL",
            "destination_port": "NLRTM",
            "loading_port": "IDSRG",
            "required_by": required_by.isoformat(),
            "notes": "Spring collection; cartons marked per store",
        },
    )
    story.say(f"order {order['id']}: {quantity:,} PCE FOB Semarang → Rotterdam by {required_by}")
    valid_until = (datetime.now(UTC) + timedelta(days=14)).isoformat()
    quote = {
        "lines": [{"line_id": order["lines"][0]["line_id"], "unit_price": {"amount": QUOTED_PRICE, "currency": "USD"}}],
        "lead_time_days": 90,
        "valid_until": valid_until,
    }
    await market.post(f"/v1/orders/{order['id']}/quote", cast.aggregator, quote)
    confirmed = await market.post(f"/v1/orders/{order['id']}/confirm", buyer)
    story.say(f"quoted at USD {QUOTED_PRICE} a piece and confirmed; the order is {confirmed['state']}")

    await eventually(lambda: _demand_pooled(story, pool["id"], confirmed), "the confirmed order to reach the pool")
    story.say(f"pool {pool['id']} holds the demand: {quantity:,} PCE")
    return confirmed, pool


async def _demand_pooled(story: Story, pool_id: str, order: Json) -> bool:
    """Whether the pool holds the order's line; a line pooling recorded as unmatched is added by the aggregator."""
    market, aggregator = story.market, story.cast.aggregator
    line_id = order["lines"][0]["line_id"]
    pool = await market.get(f"/v1/pools/{pool_id}", aggregator)
    if any(line["line_id"] == line_id for line in pool["lines"]):
        return True
    unmatched = await market.all("/v1/unmatched-demand", aggregator)
    if any(item["line_id"] == line_id for item in unmatched):
        await market.post(f"/v1/pools/{pool_id}/demand", aggregator, {"order_id": order["id"], "line_id": line_id})
        story.say("pooling found no open pool for the line yet; the aggregator adds it to the pool")
        return True
    return False


def _required_by(today: date) -> date:
    """Late in the month after the declared capacity, so each weaver's months all fall in the window."""
    last = months_ahead(f"{today:%Y-%m}", CAPACITY_MONTHS + 1)[-1]
    return date(int(last[:4]), int(last[5:7]), 25)


async def allocate(story: Story, pool_id: str, order: Json, approved: list[Supplier], rejected: list[Supplier]) -> None:
    """Propose until pooling has heard of every weaver and their first articles, then approve the proposal."""
    market, cast = story.market, story.cast
    quantity = order["lines"][0]["quantity"]
    body: dict[str, Any] = {
        "logistics_rate_per_unit_km": "0.0004",
        "handling_cost_per_msme": "25",
        "rejection_penalty_per_unit": "0.40",
    }
    unqualified = {str(w.msme_id) for w in rejected}

    async def complete() -> Json | None:
        proposal: Json = await market.post(f"/v1/pools/{pool_id}/allocate", cast.aggregator, body)
        not_qualified = {e["msme_id"] for e in proposal["excluded"] if e["reason"] == "not_qualified"}
        covered = proposal["allocated"] == quantity
        return proposal if covered and not_qualified == unqualified else None

    what = "a proposal covering the order (pooling learns weavers, capacity and qualifications from events)"
    proposal = await eventually(complete, what, timeout=60)
    approve = {"expires_in": 48 * 3600}
    approved_proposal = await market.post(
        f"/v1/pools/{pool_id}/proposals/{proposal['id']}/approve", cast.aggregator, approve
    )
    reasons: dict[str, int] = {}
    for excluded in proposal["excluded"]:
        reasons[excluded["reason"]] = reasons.get(excluded["reason"], 0) + 1
    story.say(
        f"{proposal['allocated']:,} of {quantity:,} PCE to {len(proposal['allocations'])} weavers"
        f" (solver {proposal['solver_status']}); left out: "
        + ", ".join(f"{reason} {n}" for reason, n in sorted(reasons.items()))
    )
    for share in sorted(proposal["allocations"], key=lambda a: -a["quantity"]):
        price = share["unit_price"]
        story.say(f"  {share['quantity']:>6,} PCE  {price['currency']} {price['amount']}  {share['msme_name']}")
    story.say(f"{len(approved_proposal['request_ids'])} allocation requests sent, answer within 48 h")


def main(
    settings_url: str, tokens: TokenAuthority, msmes: int, out: TextIO = sys.stdout, whatsapp_url: str | None = None
) -> int:
    """Run the demo against ``settings_url``; 0 when the order shipped, 1 when the marketplace stopped it.

    With ``whatsapp_url``, a stand-in Graph API is served there for the run and prints what Gotong sends it."""

    logging.getLogger("httpx").setLevel(logging.WARNING)

    async def go() -> None:
        limits = httpx.Limits(max_connections=32)
        async with httpx.AsyncClient(base_url=settings_url, timeout=60, limits=limits) as client:
            await run(Marketplace(client, tokens), msmes, out)

    fake = None
    try:
        fake = serve_fake(whatsapp_url, out) if whatsapp_url else None
        asyncio.run(go())
    except DemoError as error:
        print(f"\ngotong demo stopped: {error}", file=sys.stderr)
        return 1
    finally:
        if fake is not None:
            fake.stop()
            print(f"The stand-in WhatsApp API at {whatsapp_url} received {len(fake.sent)} messages.", file=out)
    return 0
