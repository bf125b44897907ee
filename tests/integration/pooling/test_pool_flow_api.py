"""A pool from confirmed order to shipped consignment, over HTTP, fed by real upstream events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from events import quality
from shared.auth import Role
from shared.kernel.ids import new_id
from tests.conftest import Servers
from tests.integration.pooling.harness import AGGREGATOR, Pooling, eventually, running_pooling
from tests.support.app import token

pytestmark = pytest.mark.integration


@pytest.fixture
async def pooling(database_url: str, servers: Servers, nats_prefix: str, pool: asyncpg.Pool) -> AsyncIterator[Pooling]:
    async with running_pooling(database_url, servers.nats_url, nats_prefix, pool) as running:
        yield running


async def requests_of(pooling: Pooling, org: str, **query: str) -> list[dict[str, Any]]:
    params = "&".join(f"{k}={v}" for k, v in query.items())
    page = await pooling.get(f"/v1/allocation-requests?{params}", headers=token(Role.MSME, org=org))
    items: list[dict[str, Any]] = page["items"]
    return items


async def test_a_confirmed_order_is_allocated_accepted_delivered_inspected_and_shipped(pooling: Pooling) -> None:
    cheap, _ = await pooling.msme("rotan-cirebon", price="3.50", capacity={"2027-02": 600})
    dear, _ = await pooling.msme("rotan-solo", city="Surakarta", price="4.50", capacity={"2027-02": 2_000})
    pool = await pooling.open_pool()
    order_id, _ = await pooling.confirm_order([1_000])
    await pooling.pool_where(pool["id"], lambda p: p["demand"] == 1_000)

    allocated = await pooling.client.post(f"/v1/pools/{pool['id']}/allocate", json={"send": True}, headers=AGGREGATOR)
    assert allocated.status_code == 201, allocated.text
    proposal = allocated.json()
    assert proposal["allocated"] == 1_000 and proposal["status"] == "approved"
    shares = {a["msme_id"]: a["quantity"] for a in proposal["allocations"]}
    assert shares == {str(cheap): 600, str(dear): 400}
    assert all(a["reason"].startswith("chosen") for a in proposal["allocations"])

    (mine,) = await eventually(lambda: requests_of(pooling, "rotan-cirebon"))
    assert mine["quantity"] == 600 and mine["plan"] == [{"month": "2027-02", "quantity": 600}]
    assert await requests_of(pooling, "someone-else") == []
    cirebon = token(Role.MSME, org="rotan-cirebon")
    accepted = await pooling.client.post(f"/v1/allocation-requests/{mine['id']}/accept", json={}, headers=cirebon)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["accepted"] == 600
    (theirs,) = await requests_of(pooling, "rotan-solo")
    solo = token(Role.MSME, org="rotan-solo")
    assert (
        await pooling.client.post(f"/v1/allocation-requests/{theirs['id']}/accept", json={}, headers=solo)
    ).status_code == 200

    state = await pooling.get(f"/v1/pools/{pool['id']}")
    assert (state["accepted"], state["requested"], state["open"]) == (1_000, 0, 0)
    assert state["lines"][0]["accepted"] == 1_000 and state["lines"][0]["order_id"] == str(order_id)

    lot = await pooling.client.post(
        f"/v1/pools/{pool['id']}/lots",
        json={"msme_id": str(cheap), "quantity": 600, "lot_code": "CRB-0001", "delivered_on": "2027-02-20"},
        headers=cirebon,
    )
    assert lot.status_code == 201, lot.text
    too_much = await pooling.client.post(
        f"/v1/pools/{pool['id']}/lots",
        json={"msme_id": str(dear), "quantity": 401, "lot_code": "SOC-0001", "delivered_on": "2027-02-21"},
        headers=AGGREGATOR,
    )
    assert too_much.status_code == 409 and too_much.json()["type"] == "/problems/over-delivery"
    other = await pooling.client.post(
        f"/v1/pools/{pool['id']}/lots",
        json={"msme_id": str(dear), "quantity": 400, "lot_code": "SOC-0001", "delivered_on": "2027-02-21"},
        headers=AGGREGATOR,
    )
    assert other.status_code == 201

    not_yet = await pooling.client.post(f"/v1/pools/{pool['id']}/ship", json={}, headers=AGGREGATOR)
    assert not_yet.status_code == 409 and not_yet.json()["type"] == "/problems/nothing-to-ship"
    for body in (lot.json(), other.json()):
        await pooling.quality.publish(f"inspection-{new_id()}", verdict(pooling, pool["id"], body, accepted=True))
    filled = await pooling.pool_where(pool["id"], lambda p: p["status"] == "filled")
    assert filled["passed"] == 1_000

    shipped = await pooling.client.post(f"/v1/pools/{pool['id']}/ship", json={}, headers=AGGREGATOR)
    assert shipped.status_code == 201, shipped.text
    assert shipped.json()["quantity"] == 1_000 and not shipped.json()["partial"]
    assert shipped.json()["pool"]["status"] == "shipped"


def verdict(pooling: Pooling, pool_id: str, lot: dict[str, Any], *, accepted: bool) -> Any:
    kind = quality.LotAccepted if accepted else quality.LotRejected
    return kind(
        inspection_id=new_id(), lot_id=UUID(lot["lot_id"]), pool_id=UUID(pool_id), msme_id=UUID(lot["msme_id"]),
        standard_id=pooling.standard_id, standard_version=1, lot_size=lot["quantity"], resubmitted=False,
        severity="normal", plans=[], verdicts=[], measurements=[],
        reasons=[] if accepted else ["major defects 6 > Re 5"], inspector_org="qc", recorded_by="inspector:rini",
        at=pooling.clock.now(),
    )  # fmt: skip
