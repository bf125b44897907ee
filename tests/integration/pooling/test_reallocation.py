"""Shortfalls are re-allocated without anyone acting: a decline, an expiry (by the clock), a partial accept,
a rejected lot, a lowered capacity. The aggregator sees why in the pool's proposals."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from events import catalog, orders
from services.pooling.domain.capacity_ledger import capacity_stream
from services.pooling.domain.pool import pool_stream
from services.pooling.use_cases.allocation_requests import reallocate_later
from services.pooling.use_cases.supply import Declaration, record_capacity
from shared.auth import Role
from shared.eventstore import Metadata, stream_lock_key
from shared.kernel.ids import new_id
from tests.conftest import Servers
from tests.integration.pooling.harness import AGGREGATOR, Pooling, eventually, running_pooling
from tests.integration.pooling.test_pool_flow_api import requests_of, verdict
from tests.support.app import token

pytestmark = pytest.mark.integration


@pytest.fixture
async def pooling(database_url: str, servers: Servers, nats_prefix: str, pool: asyncpg.Pool) -> AsyncIterator[Pooling]:
    async with running_pooling(database_url, servers.nats_url, nats_prefix, pool) as running:
        yield running


async def allocate(pooling: Pooling, pool_id: str, **body: Any) -> dict[str, Any]:
    response = await pooling.client.post(
        f"/v1/pools/{pool_id}/allocate", json={"send": True, **body}, headers=AGGREGATOR
    )
    assert response.status_code == 201, response.text
    proposal: dict[str, Any] = response.json()
    return proposal


async def proposals(pooling: Pooling, pool_id: str, count: int) -> list[dict[str, Any]]:
    async def enough() -> list[dict[str, Any]] | None:
        items: list[dict[str, Any]] = (await pooling.get(f"/v1/pools/{pool_id}/proposals"))["items"]
        return items if len(items) >= count else None

    return await eventually(enough)


async def pending_for(pooling: Pooling, org: str) -> dict[str, Any]:
    async def one() -> dict[str, Any] | None:
        items = await requests_of(pooling, org, status="pending")
        return items[0] if items else None

    return await eventually(one)


async def test_a_decline_is_re_allocated_to_the_next_cheapest_msme_and_says_why(pooling: Pooling) -> None:
    first, _ = await pooling.msme("rotan-a", price="3.00", capacity={"2027-02": 1_000})
    await pooling.msme("rotan-b", price="3.50", capacity={"2027-02": 1_000})
    pool = await pooling.open_pool()
    await pooling.confirm_order([800])
    await pooling.pool_where(pool["id"], lambda p: p["demand"] == 800)
    proposal = await allocate(pooling, pool["id"])
    assert [(a["msme_id"], a["quantity"]) for a in proposal["allocations"]] == [(str(first), 800)]

    request = await pending_for(pooling, "rotan-a")
    declined = await pooling.client.post(
        f"/v1/allocation-requests/{request['id']}/decline",
        json={"reason": "our loom is broken until March"},
        headers=token(Role.MSME, org="rotan-a"),
    )
    assert declined.status_code == 200 and declined.json()["status"] == "declined"

    replacement = await pending_for(pooling, "rotan-b")
    assert replacement["quantity"] == 800
    _, again = await proposals(pooling, pool["id"], 2)
    assert "declined" in again["trigger"] and "our loom is broken until March" in again["trigger"]
    assert again["set_aside"] == [
        {"msme_id": str(first), "reason": "declined", "detail": "our loom is broken until March"}
    ]
    assert again["request_ids"] == [replacement["id"]]
    twice = await pooling.client.post(
        f"/v1/allocation-requests/{request['id']}/accept", json={}, headers=token(Role.MSME, org="rotan-a")
    )
    assert twice.status_code == 409 and twice.json()["type"] == "/problems/illegal-transition"


async def test_an_unanswered_request_expires_by_the_clock_and_its_units_go_elsewhere(pooling: Pooling) -> None:
    await pooling.msme("rotan-a", price="3.00", capacity={"2027-02": 500})
    await pooling.msme("rotan-b", price="3.50", capacity={"2027-02": 500})
    pool = await pooling.open_pool()
    await pooling.confirm_order([500])
    await pooling.pool_where(pool["id"], lambda p: p["demand"] == 500)
    await allocate(pooling, pool["id"], expires_in=60)
    request = await pending_for(pooling, "rotan-a")

    pooling.clock.advance(timedelta(seconds=59))
    at_59 = await pooling.get(f"/v1/allocation-requests/{request['id']}", headers=AGGREGATOR)
    assert at_59["status"] == "pending"
    pooling.clock.advance(timedelta(seconds=2))

    async def expired() -> bool:
        status: str = (await pooling.get(f"/v1/allocation-requests/{request['id']}"))["status"]
        return status == "expired"

    await eventually(expired)
    replacement = await pending_for(pooling, "rotan-b")
    assert replacement["quantity"] == 500
    late = await pooling.client.post(
        f"/v1/allocation-requests/{request['id']}/accept", json={}, headers=token(Role.MSME, org="rotan-a")
    )
    assert late.status_code == 409


async def test_accepting_after_the_deadline_but_before_the_scheduler_fires_is_refused(pooling: Pooling) -> None:
    await pooling.msme("rotan-a", capacity={"2027-02": 500})
    pool = await pooling.open_pool()
    await pooling.confirm_order([100])
    await pooling.pool_where(pool["id"], lambda p: p["demand"] == 100)
    await allocate(pooling, pool["id"], expires_in=3600)
    request = await pending_for(pooling, "rotan-a")
    pooling.clock.advance(timedelta(hours=2))
    late = await pooling.client.post(
        f"/v1/allocation-requests/{request['id']}/accept", json={}, headers=token(Role.MSME, org="rotan-a")
    )
    assert late.status_code == 409 and late.json()["type"] in {
        "/problems/request-expired",
        "/problems/illegal-transition",
    }


async def test_a_partial_accept_keeps_the_earliest_months_and_the_rest_is_re_allocated(pooling: Pooling) -> None:
    first, product = await pooling.msme("rotan-a", price="3.00", capacity={"2027-01": 300, "2027-02": 300})
    await pooling.msme("rotan-b", price="3.50", capacity={"2027-02": 1_000})
    pool = await pooling.open_pool()
    await pooling.confirm_order([600])
    await pooling.pool_where(pool["id"], lambda p: p["demand"] == 600)
    await allocate(pooling, pool["id"])
    request = await pending_for(pooling, "rotan-a")
    assert request["plan"] == [{"month": "2027-01", "quantity": 300}, {"month": "2027-02", "quantity": 300}]
    accepted = await pooling.client.post(
        f"/v1/allocation-requests/{request['id']}/accept",
        json={"quantity": 400},
        headers=token(Role.MSME, org="rotan-a"),
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["accepted_plan"] == [
        {"month": "2027-01", "quantity": 300},
        {"month": "2027-02", "quantity": 100},
    ]
    replacement = await pending_for(pooling, "rotan-b")
    assert replacement["quantity"] == 200
    state = await pooling.get(f"/v1/pools/{pool['id']}")
    assert (state["accepted"], state["requested"]) == (400, 200)
    assert state["set_aside"][0]["reason"] == "partial"
    assert product is not None and first is not None


async def test_a_rejected_lot_reopens_its_units_and_they_are_re_allocated(pooling: Pooling) -> None:
    first, _ = await pooling.msme("rotan-a", price="3.00", capacity={"2027-02": 300})
    await pooling.msme("rotan-b", price="3.50", capacity={"2027-02": 1_000})
    pool = await pooling.open_pool()
    await pooling.confirm_order([300])
    await pooling.pool_where(pool["id"], lambda p: p["demand"] == 300)
    await allocate(pooling, pool["id"])
    request = await pending_for(pooling, "rotan-a")
    headers = token(Role.MSME, org="rotan-a")
    await pooling.client.post(f"/v1/allocation-requests/{request['id']}/accept", json={}, headers=headers)
    lot = await pooling.client.post(
        f"/v1/pools/{pool['id']}/lots",
        json={"msme_id": str(first), "quantity": 300, "lot_code": "CRB-7", "delivered_on": "2027-02-25"},
        headers=headers,
    )
    assert lot.status_code == 201, lot.text
    await pooling.quality.publish(f"inspection-{new_id()}", verdict(pooling, pool["id"], lot.json(), accepted=False))

    state = await pooling.pool_where(pool["id"], lambda p: p["returned"] == 300)
    assert state["lots"][0]["status"] == "returned" and state["set_aside"][0]["reason"] == "lot_rejected"
    replacement = await pending_for(pooling, "rotan-b")
    assert replacement["quantity"] == 300


async def test_lowering_capacity_below_what_is_booked_releases_the_excess_for_re_allocation(pooling: Pooling) -> None:
    first, product = await pooling.msme("rotan-a", price="3.00", capacity={"2027-02": 500})
    await pooling.msme("rotan-b", price="3.50", capacity={"2027-02": 1_000})
    pool = await pooling.open_pool()
    await pooling.confirm_order([500])
    await pooling.pool_where(pool["id"], lambda p: p["demand"] == 500)
    await allocate(pooling, pool["id"])
    request = await pending_for(pooling, "rotan-a")
    await pooling.client.post(
        f"/v1/allocation-requests/{request['id']}/accept", json={}, headers=token(Role.MSME, org="rotan-a")
    )
    lowered = catalog.CapacityDeclared(
        product_id=product, msme_id=first, month="2027-02", units=200, at=pooling.clock.now()
    )
    await pooling.catalog.publish(f"product-{product}", lowered)

    state = await pooling.pool_where(pool["id"], lambda p: p["accepted"] == 200)
    assert state["set_aside"][0]["reason"] == "capacity_lowered"
    replacement = await pending_for(pooling, "rotan-b")
    assert replacement["quantity"] == 300
    mine = await pooling.get(f"/v1/allocation-requests/{request['id']}")
    assert mine["accepted"] == 200


async def test_a_batch_of_declarations_is_one_unit_each_event_keeping_its_cause_and_the_last_one_judging(
    pooling: Pooling,
) -> None:
    """The ledgers of a consumer's batch: one ledger lowered below its booking then raised a little, another
    declared twice; each ``CapacityRecorded`` names its own catalog event, and what is released follows the last
    declaration of each ledger."""
    first, booked = await pooling.msme("rotan-a", price="3.00", capacity={"2027-02": 500})
    _, other = await pooling.msme("rotan-b", price="3.50", capacity={"2027-02": 1_000})
    pool = await pooling.open_pool()
    await pooling.confirm_order([500])
    await pooling.pool_where(pool["id"], lambda p: p["demand"] == 500)
    await allocate(pooling, pool["id"])
    request = await pending_for(pooling, "rotan-a")
    accepted = await pooling.client.post(
        f"/v1/allocation-requests/{request['id']}/accept", json={}, headers=token(Role.MSME, org="rotan-a")
    )
    assert accepted.status_code == 200, accepted.text

    at = pooling.clock.now()
    told = [(booked, 200), (other, 900), (booked, 300), (other, 800), (booked, 300)]
    declarations = [
        Declaration(product, first, "2027-02", units, at, Metadata(causation_id=f"catalog-event-{n}"))
        for n, (product, units) in enumerate(told)
    ]
    async with pooling.db.acquire() as connection, connection.transaction():
        await record_capacity(pooling.store, declarations, connection=connection)

    def causes(product: UUID) -> list[tuple[int, str | None]]:
        return [(e.declared, r.metadata.causation_id) for r, e in recorded if e.product_id == product]

    records = await pooling.store.read_streams([(capacity_stream(p, "2027-02"), 0) for p in (booked, other)])
    recorded = [(r, pooling.store.decode(r)) for r in records if r.event_type == "CapacityRecorded"]
    # after the declaration the consumer recorded; the last one repeats the one before, so records nothing
    assert causes(booked)[1:] == [(200, "catalog-event-0"), (300, "catalog-event-2")]
    assert causes(other)[1:] == [(900, "catalog-event-1"), (800, "catalog-event-3")]
    state = await pooling.pool_where(pool["id"], lambda p: p["accepted"] == 300)
    assert [(s["msme_id"], s["reason"]) for s in state["set_aside"]] == [(str(first), "capacity_lowered")]
    path = f"/v1/allocation-requests/{request['id']}"
    assert await eventually(lambda: _accepted(pooling, path, 300))
    assert (await pending_for(pooling, "rotan-b"))["quantity"] == 200


async def _accepted(pooling: Pooling, path: str, units: int) -> bool:
    return bool((await pooling.get(path))["accepted"] == units)


async def test_a_cancelled_order_leaves_its_pool_and_gives_back_what_was_booked(pooling: Pooling) -> None:
    first, _ = await pooling.msme("rotan-a", capacity={"2027-02": 1_000})
    pool = await pooling.open_pool()
    order_id, _ = await pooling.confirm_order([400])
    await pooling.confirm_order([100])
    await pooling.pool_where(pool["id"], lambda p: p["demand"] == 500)
    await allocate(pooling, pool["id"])
    request = await pending_for(pooling, "rotan-a")
    await pooling.client.post(
        f"/v1/allocation-requests/{request['id']}/accept", json={}, headers=token(Role.MSME, org="rotan-a")
    )
    cancelled = orders.OrderCancelled(
        order_id=order_id, buyer_org="rotterdam-home", aggregator_org="nusantara-trading", previous_state="confirmed",
        line_ids=[], reason="buyer changed supplier", production_started=False, consequences=[],
        cancelled_by="buyer:jan",
        at=pooling.clock.now(),
    )  # fmt: skip
    await pooling.orders.publish(f"order-{order_id}", cancelled)

    state = await pooling.pool_where(pool["id"], lambda p: p["demand"] == 100 and p["accepted"] == 100)
    assert [line["demand"] for line in state["lines"]] == [100]

    async def released() -> dict[str, Any] | None:  # the request's view may follow the pool's a moment later
        mine: dict[str, Any] = await pooling.get(f"/v1/allocation-requests/{request['id']}")
        return mine if mine["accepted"] == 100 else None

    mine = await eventually(released)
    assert "buyer changed supplier" in mine["answer"]
    assert UUID(mine["msme_id"]) == first


async def test_a_reallocation_an_outage_cuts_off_is_tried_again_at_once_not_after_its_lease(pooling: Pooling) -> None:
    await pooling.msme("rotan-a", capacity={"2027-02": 1_000})
    pool = await pooling.open_pool()
    pool_id = UUID(pool["id"])
    await pooling.confirm_order([400])
    await pooling.pool_where(pool["id"], lambda p: p["demand"] == 400)
    key = stream_lock_key("pooling", pool_stream(pool_id))
    async with pooling.db.acquire() as holder:
        await holder.execute("SELECT pg_advisory_lock($1)", key)
        await reallocate_later(pooling.db, pool_id, "a shortfall")

        async def worker_waiting() -> int | None:
            pid: int | None = await holder.fetchval(
                """SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
                   AND classid::bigint = $1 AND objid::bigint = $2""",
                key >> 32,
                key & 0xFFFF_FFFF,
            )
            return pid

        await holder.execute("SELECT pg_terminate_backend($1)", await eventually(worker_waiting))
        await holder.execute("SELECT pg_advisory_unlock($1)", key)
    # pooling's clock stands still: a re-allocation left to wait for its lease to end would never run
    request = await pending_for(pooling, "rotan-a")
    assert request["quantity"] == 400
