"""An order whose lines are pooled apart moves on at the time its last line got there, whichever pool's events
orders hears of first.

Each pool has its own stream, so orders may hear that the trays' pool passed and shipped its lots before it
hears that the baskets' pool passed theirs, although the baskets passed first. The order was inspected when
the last of its lines had passed, not when orders happened to hear of it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg
import pytest

from events.orders import CODEC
from events.pooling import (
    ConsignmentShipped,
    LineProgress,
    LineQuantity,
    LotPassed,
    ShippedLot,
    SupplyBooked,
    SupplyLapsed,
    SupplyRequested,
)
from services.orders.domain.order import ORDER, ConfirmOrder, order_stream
from services.orders.handlers import POOLING_SAGA
from services.orders.read.progress import progress_of
from shared.eventstore import EventStore, Metadata
from shared.inbox import Delivery, Taken, handle_batch, handle_once
from shared.kernel.ids import new_id
from tests.integration.orders.test_history_arrival_order import interleavings
from tests.unit.orders.fixtures import BASKETS, NOW, TRAYS, history, quote, request

pytestmark = pytest.mark.integration

PASSED = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)
QUANTITIES = {BASKETS: 20_000, TRAYS: 5_000}


def pool_events(order_id: UUID, line_id: UUID, passed_at: datetime, shipped_at: datetime) -> list[Delivery]:
    """A pool holding one of the order's lines: its lot passes, then its consignment ships."""
    pool_id, lot_id, weaver = new_id(), new_id(), new_id()
    quantity = QUANTITIES[line_id]
    share = [LineQuantity(order_id=order_id, line_id=line_id, quantity=quantity)]

    def progress(shipped: int) -> list[LineProgress]:
        return [
            LineProgress(
                order_id=order_id, line_id=line_id, demand=quantity, accepted=quantity, delivered=quantity,
                passed=quantity, shipped=shipped,
            )
        ]  # fmt: skip

    passed = LotPassed(
        pool_id=pool_id, lot_id=lot_id, msme_id=weaver, quantity=quantity, inspection_id=new_id(), lines=share,
        progress=progress(0), at=passed_at,
    )  # fmt: skip
    shipped = ConsignmentShipped(
        pool_id=pool_id, aggregator_org="cirebon-rattan", consignment_id=new_id(),
        lots=[ShippedLot(lot_id=lot_id, msme_id=weaver, lot_code=f"LOT-{line_id}", quantity=quantity)],
        quantity=quantity, partial=False, lines=share, progress=progress(quantity), shipped_by="aggregator:dewi",
        at=shipped_at,
    )  # fmt: skip
    deliveries = []
    for version, event in enumerate((passed, shipped), start=1):
        delivery = Delivery(
            event=event, event_id=new_id(), stream_id=f"pool-{pool_id}", stream_version=version, position=version,
            metadata=Metadata(actor="aggregator:dewi"), recorded_at=event.at + timedelta(seconds=1), source="pooling",
        )  # fmt: skip
        deliveries.append(delivery)
    return deliveries


async def test_each_milestone_is_dated_by_the_last_line_to_reach_it_whichever_pool_is_heard_first(
    pool: asyncpg.Pool,
) -> None:
    store = EventStore(pool, "orders", CODEC)
    handlings = list(interleavings([[(0, 0), (0, 1)], [(1, 0), (1, 1)]]))
    assert len(handlings) == 6
    for handling in handlings:
        order_id = new_id()
        confirmed = history(request(order_id=order_id), quote(), ConfirmOrder(confirmed_by="buyer:ana", at=NOW))
        await store.append(order_stream(order_id), ORDER.stream_type, 0, confirmed)
        pools = [
            # The baskets pass first and ship before the trays pass; the trays ship last.
            pool_events(order_id, BASKETS, PASSED, PASSED + timedelta(minutes=30)),
            pool_events(order_id, TRAYS, PASSED + timedelta(hours=1), PASSED + timedelta(hours=2)),
        ]
        for n, m in handling:
            assert await handle_once(pool, store, POOLING_SAGA, pools[n][m])
        order = ORDER.fold(store.decode(record) for record in await store.read_stream(order_stream(order_id)))
        reached = {state: order.milestones.get(state) for state in ("in_production", "inspected", "shipped")}
        assert reached == {
            "in_production": PASSED + timedelta(hours=1),
            "inspected": PASSED + timedelta(hours=1),
            "shipped": PASSED + timedelta(hours=2),
        }, f"pools' events handled in the order {handling}"


def answered_pool(order_id: UUID) -> list[Delivery]:
    """One pool asks for both lines, a weaver declines, another is asked instead, and all accept: the baskets
    (20,000) are asked of two, one declines and a third takes its 8,000; the trays (5,000) accept last."""
    pool_id, product_id = new_id(), new_id()
    weavers = [new_id() for _ in range(4)]
    asked = {BASKETS: 0, TRAYS: 0}

    def lines(line_id: UUID, quantity: int) -> list[LineQuantity]:
        return [LineQuantity(order_id=order_id, line_id=line_id, quantity=quantity)]

    def progress() -> list[LineProgress]:
        return [
            LineProgress(
                order_id=order_id, line_id=line_id, demand=QUANTITIES[line_id], accepted=accepted, delivered=0,
                passed=0, shipped=0,
            )
            for line_id, accepted in asked.items()
        ]  # fmt: skip

    def requested(number: int, line_id: UUID, quantity: int) -> SupplyRequested:
        return SupplyRequested(
            pool_id=pool_id, request_id=UUID(int=number), msme_id=weavers[number - 1], product_id=product_id,
            quantity=quantity, lines=lines(line_id, quantity), expires_at=NOW + timedelta(days=3),
            at=NOW + timedelta(minutes=number),
        )  # fmt: skip

    def booked(number: int, line_id: UUID, quantity: int, minute: int) -> SupplyBooked:
        asked[line_id] += quantity
        return SupplyBooked(
            pool_id=pool_id, request_id=UUID(int=number), msme_id=weavers[number - 1], product_id=product_id,
            requested=quantity, quantity=quantity, shortfall=0, lines=lines(line_id, quantity), progress=progress(),
            at=NOW + timedelta(minutes=minute),
        )  # fmt: skip

    declined = SupplyLapsed(
        pool_id=pool_id, request_id=UUID(int=2), msme_id=weavers[1], product_id=product_id, quantity=8_000,
        outcome="declined", reason="the loom is broken", lines=lines(BASKETS, 8_000), at=NOW + timedelta(minutes=10),
    )  # fmt: skip
    events = [
        requested(1, BASKETS, 12_000),
        requested(2, BASKETS, 8_000),
        requested(3, TRAYS, 5_000),
        booked(1, BASKETS, 12_000, minute=11),
        declined,
        requested(4, BASKETS, 8_000),
        booked(4, BASKETS, 8_000, minute=20),
        booked(3, TRAYS, 5_000, minute=30),
    ]
    stream, metadata = f"pool-{pool_id}", Metadata(actor="pooling")
    return [
        Delivery(
            event=e,
            event_id=new_id(),
            stream_id=stream,
            stream_version=v,
            position=v,
            metadata=metadata,
            recorded_at=e.at,
            source="pooling",
        )
        for v, e in enumerate(events, start=1)
    ]


async def test_a_batch_of_pool_events_leaves_each_line_and_milestone_as_handling_them_one_at_a_time(
    pool: asyncpg.Pool,
) -> None:
    store = EventStore(pool, "orders", CODEC)
    leaves: dict[str, tuple[object, ...]] = {}
    for how in ("one at a time", "in two batches", "in one batch"):
        order_id = new_id()
        confirmed = history(request(order_id=order_id), quote(), ConfirmOrder(confirmed_by="buyer:ana", at=NOW))
        await store.append(order_stream(order_id), ORDER.stream_type, 0, confirmed)
        deliveries = answered_pool(order_id)
        if how == "one at a time":
            for delivery in deliveries:
                assert await handle_once(pool, store, POOLING_SAGA, delivery)
        elif how == "in two batches":
            assert await handle_batch(pool, store, POOLING_SAGA, deliveries[:5]) == [Taken.HANDLED] * 5
            partway = await progress_of(pool, order_id)  # the declined request's units are no longer asked
            assert (partway[BASKETS].allocated, partway[TRAYS].allocated) == (12_000, 5_000)
            assert await handle_batch(pool, store, POOLING_SAGA, deliveries[5:]) == [Taken.HANDLED] * 3
        else:
            assert await handle_batch(pool, store, POOLING_SAGA, deliveries) == [Taken.HANDLED] * 8
        order = ORDER.fold(store.decode(record) for record in await store.read_stream(order_stream(order_id)))
        progress = await progress_of(pool, order_id)
        leaves[how] = (progress[BASKETS], progress[TRAYS], order.state, order.milestones.get("in_production"))
    assert leaves["in one batch"] == leaves["in two batches"] == leaves["one at a time"]
    baskets, trays, state, in_production = leaves["in one batch"]
    assert (baskets.allocated, baskets.accepted, trays.allocated, trays.accepted) == (20_000, 20_000, 5_000, 5_000)
    assert state == "in_production" and in_production == NOW + timedelta(minutes=30)
