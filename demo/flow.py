"""The demo's pool at work: MSMEs answer allocation requests, deliver lots, the inspector judges them.

One MSME declines its request and one lot fails inspection; pooling re-allocates both shortfalls by itself,
and the loop answers the new requests until the pool is filled.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TextIO
from uuid import UUID

from demo.client import DemoError, Json, Marketplace
from demo.data import RATTAN
from demo.seed import Cast, Supplier

SHORTFALL_PATIENCE = 20.0
"""Seconds the pool may have open units and no pending request before the demo says it cannot go on."""
REPLACEABLE = RATTAN.moq_range[1]
DECLINE_REASON = "the cane from Kalimantan arrives late this season; we cannot weave this many in time"


@dataclass
class LotRecord:
    """What the buyer's provenance tells about a lot: who made it, where, and what inspection found."""

    lot: Json
    supplier: Supplier
    inspection: Json | None = None


@dataclass
class PoolWork:
    market: Marketplace
    cast: Cast
    pool_id: str
    standard_id: UUID
    today: date
    rng: random.Random
    out: TextIO
    run: str
    lots: dict[str, LotRecord] = field(default_factory=dict)
    answered: set[str] = field(default_factory=set)
    declined: bool = False
    rejected: bool = False

    def say(self, line: str) -> None:
        print(f"    {line}", file=self.out, flush=True)

    def supplier(self, msme_id: str) -> Supplier:
        return self.cast.suppliers[UUID(msme_id)]

    async def pool(self) -> Json:
        return await self.market.get(f"/v1/pools/{self.pool_id}", self.cast.aggregator)

    async def until(self, done: Callable[[Json], bool], what: str, *, deliver: bool, timeout: float = 120) -> Json:
        """Answer, deliver and inspect whatever is waiting until ``done(pool)``; bounded by ``timeout``."""
        deadline = time.monotonic() + timeout
        short_since: float | None = None
        while True:
            pool = await self.pool()
            if done(pool):
                return pool
            acted = await self.answer_requests()
            if deliver:
                acted += await self.deliver_lots(pool) + await self.inspect_lots(pool)
            now = time.monotonic()
            short = pool["open"] > 0 and pool["requested"] == 0
            short_since = (short_since or now) if short else None
            if short_since is not None and now - short_since > SHORTFALL_PATIENCE:
                await self._explain_shortfall(pool)
            if now > deadline:
                raise DemoError(f"gave up after {timeout:.0f} s waiting for {what}")
            if not acted:
                await asyncio.sleep(0.2)

    async def _explain_shortfall(self, pool: Json) -> None:
        """Units are open and nobody is asked for them: pooling's last re-allocation found no one; say why."""
        proposals = await self.market.all(f"/v1/pools/{self.pool_id}/proposals", self.cast.aggregator)
        latest = proposals[-1] if proposals else {}
        reasons = ", ".join(sorted({e["reason"] for e in latest.get("excluded", [])})) or "none given"
        raise DemoError(
            f"{pool['open']:,} {pool['unit']} are open and no MSME could take them "
            f"({latest.get('trigger', 'no proposal')}; candidates left out for: {reasons})"
        )

    async def answer_requests(self) -> int:
        """Every pending request is accepted by its MSME, except one of the first round, which is declined last.

        The list is a read model and may still show a request just answered as pending: each is answered once.
        An accept refused for capacity (another request of the MSME took it first) becomes a decline.
        """
        path = f"/v1/allocation-requests?pool_id={self.pool_id}&status=pending"
        pending = [r for r in await self.market.all(path, self.cast.aggregator) if r["id"] not in self.answered]
        declining = None if self.declined else scripted(pending)
        for request in sorted(pending, key=lambda r: r is declining):
            self.answered.add(request["id"])
            if request is declining:
                self.declined = True
                await self._decline(request, DECLINE_REASON)
                continue
            supplier = self.supplier(request["msme_id"])
            accepted = await self.market.call(
                "POST", f"/v1/allocation-requests/{request['id']}/accept", supplier.person, {}, accept=(200, 409)
            )
            if accepted.status_code == 409:
                await self._decline(request, f"cannot accept after all: {accepted.json()['detail']}")
                continue
            price = request["unit_price"]
            months = ", ".join(f"{p['month']}: {p['quantity']:,}" for p in request["plan"])
            self.say(
                f"{self.name_of(request)} accepts {request['quantity']:,} {request['unit']} at "
                f"{price['currency']} {price['amount']} ({months})"
            )
        return len(pending)

    async def _decline(self, request: Json, reason: str) -> None:
        supplier = self.supplier(request["msme_id"])
        await self.market.post(f"/v1/allocation-requests/{request['id']}/decline", supplier.person, {"reason": reason})
        self.say(f"{self.name_of(request)} declines {request['quantity']:,} {request['unit']}: {reason}")

    def name_of(self, request: Json) -> str:
        producer = self.supplier(request["msme_id"]).producer
        return f"{producer.name} ({producer.city})"

    async def deliver_lots(self, pool: Json) -> int:
        """Each MSME with accepted units still to deliver brings them in one lot."""
        delivered = 0
        for entry in pool["msmes"]:
            if entry["outstanding"] <= 0:
                continue
            supplier = self.supplier(entry["msme_id"])
            code = f"{supplier.producer.city[:3].upper()}-{self.run}-{len(self.lots) + 1:03d}"
            body = {
                "msme_id": entry["msme_id"],
                "quantity": entry["outstanding"],
                "lot_code": code,
                "delivered_on": self.today.isoformat(),
            }
            lot = await self.market.post(f"/v1/pools/{self.pool_id}/lots", supplier.person, body)
            self.lots[lot["lot_id"]] = LotRecord(lot, supplier)
            self.say(f"lot {code}: {lot['quantity']:,} {pool['unit']} from {supplier.producer.name} delivered")
            delivered += 1
        return delivered

    async def inspect_lots(self, pool: Json) -> int:
        """The inspector samples every received lot by ISO 2859-1; one of the first lots fails on majors."""
        inspected = 0
        waiting = [
            lot
            for lot in pool["lots"]
            if lot["status"] == "received"
            and lot["lot_id"] in self.lots
            and self.lots[lot["lot_id"]].inspection is None
        ]
        failing_lot = None if self.rejected else scripted(waiting)
        for lot in waiting:
            record = self.lots[lot["lot_id"]]
            opened = await self.market.post(
                "/v1/inspections",
                self.cast.inspector,
                {
                    "kind": "lot",
                    "msme_id": lot["msme_id"],
                    "standard_id": str(self.standard_id),
                    "standard_version": 1,
                    "lot_id": lot["lot_id"],
                    "pool_id": self.pool_id,
                    "lot_size": lot["quantity"],
                },
            )
            failing = lot is failing_lot
            self.rejected = self.rejected or failing
            results = self._findings(opened["plans"], failing=failing)
            record.inspection = await self.market.post(
                f"/v1/inspections/{opened['id']}/results", self.cast.inspector, results
            )
            self.say(f"lot {lot['lot_code']}: {describe(record.inspection)}")
            inspected += 1
        return inspected

    def _findings(self, plans: list[Json], *, failing: bool) -> dict[str, Any]:
        """A few defects within each class's Ac, or (``failing``) majors reaching Re; diameters within ±1 cm."""
        defects: dict[str, int] = {}
        for plan in plans:
            if plan["defect_class"] == "critical":
                defects["critical"] = 0
            elif failing and plan["defect_class"] == "major":
                defects["major"] = plan["reject"]
            else:
                defects[plan["defect_class"]] = self.rng.randint(0, min(plan["accept"], 2))
        sample = min(p["sample_size"] for p in plans)
        diameters = [f"{30 + self.rng.randint(-8, 8) / 10:.1f}" for _ in range(min(sample, 8))]
        return {"defects": defects, "measurements": [{"attribute": "diameter", "values": diameters}]}


def scripted(candidates: list[Json]) -> Json | None:
    """The request to decline or the lot to reject: the smallest one any MSME could take over (at least the
    largest MOQ), so pooling can re-allocate it; the largest when none is that big."""
    if not candidates:
        return None
    big_enough = [c for c in candidates if c["quantity"] >= REPLACEABLE]
    if big_enough:
        return min(big_enough, key=lambda c: (c["quantity"], c["id"] if "id" in c else c["lot_id"]))
    return max(candidates, key=lambda c: c["quantity"])


def describe(inspection: Json) -> str:
    """An inspection's verdict in one line: sample, defects per class against Ac/Re."""
    verdict = inspection["verdict"]
    classes = ", ".join(
        f"{v['defect_class']} {v['defects']}/{v['sample_size']} (Ac {v['accept']})" for v in verdict["verdicts"]
    )
    outcome = "ACCEPTED" if verdict["accepted"] else "REJECTED"
    letter = inspection["plans"][0]["code_letter"]
    return f"{outcome} at {inspection['severity']} inspection, code letter {letter}: {classes}"
