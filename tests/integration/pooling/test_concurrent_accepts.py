"""200 concurrent accepts on real PostgreSQL: a pool is never over-filled, an MSME never over-committed, and
every refusal is a clear 409. Half go through the command layer, half through HTTP, all at once.

The requests are set up through the command layer with proposals made by hand: in the first case two
proposals approved back to back ask for twice the pool's demand (an aggregator hedging against declines);
in the second, four pools ask one MSME for twice its capacity in February.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg
import pytest
import sqlalchemy as sa

from events.common import Money
from events.pooling import AllocationPolicy, CostTerms, MonthQuantity, ProposedSupply
from services.pooling.domain.capacity_ledger import LEDGER, capacity_stream
from services.pooling.domain.pool import POOL, pool_stream
from services.pooling.domain.pool_commands import ProposalDraft
from services.pooling.domain.pool_state import Pool
from services.pooling.read.tables import msmes
from services.pooling.use_cases import allocation_requests
from services.pooling.use_cases.supply import ConfirmedLine, add_demand, propose, send_proposal
from shared.auth import Role
from shared.decider import UnitOfWork, run_command
from shared.eventstore import EventStore, Metadata
from shared.kernel.errors import Conflict
from shared.kernel.ids import new_id
from shared.sql import fetch
from tests.conftest import Servers
from tests.integration.pooling.harness import RATTAN, Pooling, eventually, running_pooling
from tests.support.app import token

pytestmark = pytest.mark.integration

ACCEPTS = 200
UNITS = 10


@pytest.fixture
async def pooling(database_url: str, servers: Servers, nats_prefix: str, pool: asyncpg.Pool) -> AsyncIterator[Pooling]:
    async with running_pooling(database_url, servers.nats_url, nats_prefix, pool) as running:
        yield running


def metadata(actor: str = "test") -> Metadata:
    return Metadata(actor=actor, command_id=str(new_id()))


def supply(msme_id: UUID, product_id: UUID) -> ProposedSupply:
    zero = Decimal(0)
    return ProposedSupply(
        msme_id=msme_id, product_id=product_id, msme_name="", quantity=UNITS,
        unit_price=Money(amount=Decimal("4.00"), currency="USD"), tier_min_quantity=1,
        plan=[MonthQuantity(month="2027-02", quantity=UNITS)],
        cost=CostTerms(price=zero, quality=zero, logistics=zero, handling=zero, total=zero), reason="by hand",
    )  # fmt: skip


async def pool_with_demand(pooling: Pooling, quantity: int) -> UUID:
    opened = await pooling.open_pool()
    pool_id = UUID(opened["id"])
    line = ConfirmedLine(
        order_id=new_id(), line_id=new_id(), aggregator_org=opened["aggregator_org"], buyer_org="rotterdam-home",
        hs_code=RATTAN, standard_id=pooling.standard_id, standard_version=1, unit="PCE", quantity=quantity,
        required_by=date(2027, 4, 1), confirmed_at=pooling.clock.now(),
    )  # fmt: skip

    async def join(unit: UnitOfWork) -> None:
        await add_demand(unit, pool_id, line, by="test", at=pooling.clock.now())

    await run_command(pooling.store, join, metadata=metadata())
    return pool_id


async def request(pooling: Pooling, pool_id: UUID, supplies: list[ProposedSupply], *, send: bool) -> Any:
    draft = ProposalDraft(tuple(supplies), (), UNITS * len(supplies), 0, (), "optimal", 0.0, Decimal(0))
    state, _ = await load_pool_state(pooling.store, pool_id)
    return await propose(
        pooling.store, pool_id, open_quantity=state.open, draft=draft, policy=AllocationPolicy(), trigger="test",
        send=send, by="test", at=pooling.clock.now(), metadata=metadata(),
    )  # fmt: skip


async def load_pool_state(store: EventStore, pool_id: UUID) -> tuple[Pool, int]:
    events, version = await store.load(pool_stream(pool_id))
    return POOL.fold(events), version  # type: ignore[arg-type]


async def approve(pooling: Pooling, pool_id: UUID, proposal_id: UUID) -> tuple[UUID, ...]:
    at = pooling.clock.now()

    async def work(unit: UnitOfWork) -> tuple[UUID, ...]:
        _, ids = await send_proposal(unit, pool_id, proposal_id, at.replace(year=2030), "test", at)
        return ids

    outcome = await run_command(pooling.store, work, metadata=metadata(), lock_streams=[pool_stream(pool_id)])
    return outcome.value


async def owners(pooling: Pooling) -> dict[UUID, str]:
    rows = await fetch(pooling.db, sa.select(msmes.c.msme_id, msmes.c.org))
    return {row["msme_id"]: row["org"] for row in rows}


async def accept_all(
    pooling: Pooling, request_ids: list[UUID], msme_of: dict[UUID, UUID]
) -> list[tuple[str, int, str]]:
    """Accept every request at once: even ones through the command layer, odd ones over HTTP.

    Returns (path, status, problem type) per accept.
    """
    org_of = await owners(pooling)

    async def by_command(request_id: UUID) -> tuple[str, int, str]:
        try:
            await allocation_requests.accept(
                pooling.store, request_id, None, by="msme:test", at=pooling.clock.now(), metadata=metadata()
            )
            return "command", 200, ""
        except Conflict as refused:
            return "command", refused.status, f"/problems/{refused.problem}"

    async def by_http(request_id: UUID) -> tuple[str, int, str]:
        headers = token(Role.MSME, org=org_of[msme_of[request_id]], sub="weaver")
        response = await pooling.client.post(f"/v1/allocation-requests/{request_id}/accept", json={}, headers=headers)
        problem = response.json().get("type", "") if response.status_code != 200 else ""
        return "http", response.status_code, problem

    calls = [by_command(r) if i % 2 == 0 else by_http(r) for i, r in enumerate(request_ids)]
    return list(await asyncio.gather(*calls))


def tally(results: list[tuple[str, int, str]]) -> Counter[tuple[int, str]]:
    return Counter((status, problem) for _, status, problem in results)


async def test_concurrent_accepts_never_over_fill_a_pool(pooling: Pooling) -> None:
    weavers = [await pooling.msme(f"weaver-{n}", capacity={"2027-02": 10_000}) for n in range(10)]
    await eventually(lambda: owners(pooling))
    pool_id = await pool_with_demand(pooling, 1_000)
    supplies = [supply(msme_id, product_id) for msme_id, product_id in weavers for _ in range(ACCEPTS // 20)]
    first = await request(pooling, pool_id, supplies, send=False)
    second = await request(pooling, pool_id, supplies, send=False)
    request_ids = [*await approve(pooling, pool_id, first.value.proposal_id)]
    request_ids += await approve(pooling, pool_id, second.value.proposal_id)
    state, _ = await load_pool_state(pooling.store, pool_id)
    assert (state.demand, state.requested, len(request_ids)) == (1_000, 2_000, ACCEPTS)
    msme_of = {rid: state.pending[rid].msme_id for rid in request_ids}

    began = time.perf_counter()
    results = await accept_all(pooling, request_ids, msme_of)
    elapsed = time.perf_counter() - began

    assert tally(results) == {(200, ""): 100, (409, "/problems/over-allocation"): 100}, (tally(results), elapsed)
    assert Counter(path for path, _, _ in results) == {"command": 100, "http": 100}
    print(f"pool: {ACCEPTS} accepts in {elapsed:.2f}s;", Counter(results))
    state, _ = await load_pool_state(pooling.store, pool_id)
    assert state.accepted == state.demand == 1_000
    assert sum(line.accepted for line in state.lines.values()) == 1_000
    for msme_id, product_id in weavers:
        events, _ = await pooling.store.load(capacity_stream(product_id, "2027-02"))
        ledger = LEDGER.fold(events)  # type: ignore[arg-type]
        assert ledger.committed == state.supplier(msme_id).accepted <= ledger.declared


async def test_concurrent_accepts_never_over_commit_an_msme(pooling: Pooling) -> None:
    msme_id, product_id = await pooling.msme("lone-weaver", capacity={"2027-02": 1_000})
    await eventually(lambda: owners(pooling))
    await eventually(lambda: ledger_declared(pooling.store, product_id))
    pools = [await pool_with_demand(pooling, 5_000) for _ in range(4)]
    request_ids: list[UUID] = []
    for pool_id in pools:
        sent = await request(pooling, pool_id, [supply(msme_id, product_id)] * (ACCEPTS // 4), send=True)
        request_ids += sent.value.request_ids
    assert len(request_ids) == ACCEPTS  # asking for 2,000 of the 1,000 it can make in February

    began = time.perf_counter()
    results = await accept_all(pooling, request_ids, dict.fromkeys(request_ids, msme_id))
    elapsed = time.perf_counter() - began

    assert tally(results) == {(200, ""): 100, (409, "/problems/over-capacity"): 100}, (tally(results), elapsed)
    print(f"capacity: {ACCEPTS} accepts in {elapsed:.2f}s;", Counter(results))
    events, _ = await pooling.store.load(capacity_stream(product_id, "2027-02"))
    ledger = LEDGER.fold(events)  # type: ignore[arg-type]
    assert ledger.committed == ledger.declared == 1_000
    accepted = [(await load_pool_state(pooling.store, p))[0].accepted for p in pools]
    assert sum(accepted) == 1_000 and all(a <= 5_000 for a in accepted)


async def ledger_declared(store: EventStore, product_id: UUID) -> bool:
    events, _ = await store.load(capacity_stream(product_id, "2027-02"))
    return LEDGER.fold(events).declared > 0  # type: ignore[arg-type]


async def test_every_kind_of_answer_at_once_keeps_a_pool_its_requests_and_ledgers_in_step(pooling: Pooling) -> None:
    """Accepts, part accepts, declines, accepts given back in part and withdrawals, all at once on one pool:
    each command locks its request and ledgers before the pool, so none deadlocks another, and what the pool
    booked is what the requests accepted and the ledgers committed."""
    weavers = [await pooling.msme(f"answering-weaver-{n}", capacity={"2027-02": 10_000}) for n in range(10)]
    await eventually(lambda: owners(pooling))
    pool_id = await pool_with_demand(pooling, 1_000)
    supplies = [supply(msme_id, product_id) for msme_id, product_id in weavers for _ in range(ACCEPTS // 20)]
    proposals = [await request(pooling, pool_id, supplies, send=False) for _ in range(2)]
    request_ids = [rid for p in proposals for rid in await approve(pooling, pool_id, p.value.proposal_id)]
    at, store = pooling.clock.now(), pooling.store

    async def answer(number: int, request_id: UUID) -> str:
        kind = ("accept", "part", "decline", "give back", "withdraw")[number % 5]
        try:
            if kind == "decline":
                await allocation_requests.decline(store, request_id, "late", by="msme:t", at=at, metadata=metadata())
            elif kind == "withdraw":
                await allocation_requests.withdraw(store, request_id, "not needed", at=at, metadata=metadata())
            else:
                quantity = UNITS // 2 if kind == "part" else None
                await allocation_requests.accept(store, request_id, quantity, by="msme:t", at=at, metadata=metadata())
                if kind == "give back":
                    await allocation_requests.release(store, request_id, 3, None, "loom", at=at, metadata=metadata())
            return kind
        except Conflict as refused:
            return f"{kind} refused: {refused.problem}"

    results = await asyncio.gather(*(answer(n, r) for n, r in enumerate(request_ids)))

    assert {r.split(" refused: ")[-1] for r in results if "refused" in r} <= {"over-allocation"}, Counter(results)
    assert Counter(r for r in results if "refused" not in r)["decline"] == ACCEPTS // 5
    state, _ = await load_pool_state(store, pool_id)
    requests = [await allocation_requests.load_request(store, r) for r in request_ids]
    assert sum(r.accepted for r in requests) == state.accepted <= state.demand == 1_000
    assert state.requested == sum(r.quantity for r in requests if r.status == "pending")
    for msme_id, product_id in weavers:
        events, _ = await store.load(capacity_stream(product_id, "2027-02"))
        committed = LEDGER.fold(events).committed  # type: ignore[arg-type]
        assert (
            committed == state.supplier(msme_id).accepted == sum(r.accepted for r in requests if r.msme_id == msme_id)
        )
