"""An order's history and provenance do not depend on the order in which other services' events arrive.

Catalog, pooling and quality publish on their own streams, so orders may hear of a lot's verdict before or
after pooling's word of the lot, and of the MSME before or after either. Only the events of one aggregate
stream arrive in order (the consumer holds back a later one). One lot here serves two orders in one pool;
its events are handled, through the consumer's inbox, in every order the consumer can handle them in, and
each time both orders' histories and provenance must come out the same, and a second delivery of any event
must change nothing. Two transactions handling the lot and its verdict at once must not lose the verdict.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from uuid import UUID

import asyncpg
import pytest

from events.base import Event
from events.catalog import Contact, MsmeRegistered
from events.orders import CODEC
from events.pooling import ConsignmentShipped, LineProgress, LineQuantity, LotPassed, LotReceived, ShippedLot
from events.quality import ClassPlan, ClassVerdict, LotAccepted, LotRejected
from services.orders.handlers import CATALOG_MIRROR, POOLING_SAGA, QUALITY_VERDICTS
from services.orders.read.history_queries import told_by_others
from services.orders.read.provenance import assemble
from services.orders.read.provenance_csv import provenance_csv
from services.orders.read.provenance_queries import load_supply
from shared.eventstore import EventStore, Metadata
from shared.inbox import Delivery, HandlerContext, Subscription, handle_once
from shared.kernel.ids import new_id
from tests.support.waiting import eventually
from tests.unit.orders.fixtures import history, line, request, state

pytestmark = pytest.mark.integration

RECEIVED = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
TRUSTED_LAB, OTHER_LAB = "sucofindo-qc", "other-lab"
WEAVER_NAME = "Rotan Cirebon Jaya"
PLANS = [
    ClassPlan(
        defect_class="major", aql=Decimal("1.0"), code_letter="J", sample_size=80, accept=2, reject=3,
        inspect_whole_lot=False,
    )
]  # fmt: skip


@dataclass(frozen=True)
class Lot:
    """One lot of one weaver serving a line of each of two orders in one pool, with every id it takes."""

    first_order: UUID
    second_order: UUID
    first_line: UUID
    second_line: UUID
    pool: UUID
    lot: UUID
    weaver: UUID
    product: UUID
    standard: UUID
    trusted_inspection: UUID
    other_inspection: UUID
    consignment: UUID

    @classmethod
    def new(cls) -> Lot:
        return cls(**{name: new_id() for name in cls.__dataclass_fields__})

    def labels(self) -> dict[str, str]:
        """Each id as text, with the name it has in every run, so two runs with their own ids compare."""
        return {str(getattr(self, name)): f"<{name}>" for name in self.__dataclass_fields__}

    @property
    def lines(self) -> list[LineQuantity]:
        return [
            LineQuantity(order_id=self.first_order, line_id=self.first_line, quantity=400),
            LineQuantity(order_id=self.second_order, line_id=self.second_line, quantity=200),
        ]

    def progress(self, delivered: int, passed: int, shipped: int) -> list[LineProgress]:
        return [
            LineProgress(
                order_id=share.order_id, line_id=share.line_id, demand=share.quantity, accepted=share.quantity,
                delivered=delivered * share.quantity // 600, passed=passed * share.quantity // 600,
                shipped=shipped * share.quantity // 600,
            )
            for share in self.lines
        ]  # fmt: skip


def _delivery(
    subscription: Subscription, event: Event, stream_id: str, version: int, at: datetime, actor: str, recorded: int = 2
) -> tuple[Subscription, Delivery]:
    """The event as the consumer gets it; its service recorded it ``recorded`` seconds after it happened."""
    delivery = Delivery(
        event=event,
        event_id=new_id(),
        stream_id=stream_id,
        stream_version=version,
        position=version,
        metadata=Metadata(actor=actor),
        recorded_at=at + timedelta(seconds=recorded),
        source=subscription.source,
    )
    return subscription, delivery


def _verdict(lot: Lot, inspection: UUID, lab: str, accepted: bool, at: datetime) -> LotAccepted | LotRejected:
    verdict = ClassVerdict(
        defect_class="major", sample_size=80, accept=2, reject=3, reported_defects=1 if accepted else 7,
        measurement_defects=0, defects=1 if accepted else 7, accepted=accepted,
        reason="" if accepted else "7 major defects reach Re 3",
    )  # fmt: skip
    fields = {
        "inspection_id": inspection, "lot_id": lot.lot, "pool_id": lot.pool, "msme_id": lot.weaver,
        "standard_id": lot.standard, "standard_version": 2, "lot_size": 600, "resubmitted": False,
        "severity": "normal", "plans": PLANS, "verdicts": [verdict], "measurements": [], "inspector_org": lab,
        "recorded_by": f"inspector:{lab}", "at": at,
    }  # fmt: skip
    if accepted:
        return LotAccepted(**fields, reasons=[])  # type: ignore[arg-type]
    return LotRejected(**fields, reasons=[verdict.reason], second_opinion=True)  # type: ignore[arg-type]


Deliveries = list[list[tuple[Subscription, Delivery]]]


def streams(lot: Lot) -> Deliveries:
    """The lot's events on each stream they travel on, in their stream's order."""
    pool_stream = f"pool-{lot.pool}"
    registered = MsmeRegistered(
        msme_id=lot.weaver, org="rotan-cirebon", name=WEAVER_NAME, nib="9120001234567", province="Jawa Barat",
        city="Cirebon", contact=Contact(name="Siti"), size_class="micro", registered_by="cirebon-trading",
        at=RECEIVED - timedelta(days=30),
    )  # fmt: skip
    received = LotReceived(
        pool_id=lot.pool, aggregator_org="cirebon-trading", lot_id=lot.lot, msme_id=lot.weaver,
        product_id=lot.product, quantity=600, lot_code="CRB-001", delivered_on=date(2027, 3, 1), hs_code="460212",
        standard_id=lot.standard, standard_version=2, unit="PCE", lines=lot.lines,
        progress=lot.progress(delivered=600, passed=0, shipped=0), received_by="aggregator:dewi", at=RECEIVED,
    )  # fmt: skip
    passed_at = RECEIVED + timedelta(hours=3)
    passed = LotPassed(
        pool_id=lot.pool, lot_id=lot.lot, msme_id=lot.weaver, quantity=600, inspection_id=lot.trusted_inspection,
        lines=lot.lines, progress=lot.progress(delivered=600, passed=600, shipped=0), at=passed_at,
    )  # fmt: skip
    shipped = ConsignmentShipped(
        pool_id=lot.pool, aggregator_org="cirebon-trading", consignment_id=lot.consignment,
        lots=[ShippedLot(lot_id=lot.lot, msme_id=lot.weaver, lot_code="CRB-001", quantity=600)], quantity=600,
        partial=False, lines=lot.lines, progress=lot.progress(delivered=600, passed=600, shipped=600),
        shipped_by="aggregator:dewi", at=RECEIVED + timedelta(days=2),
    )  # fmt: skip
    rejected = _verdict(lot, lot.other_inspection, OTHER_LAB, False, RECEIVED + timedelta(hours=1))
    accepted = _verdict(lot, lot.trusted_inspection, TRUSTED_LAB, True, passed_at)
    return [
        [_delivery(CATALOG_MIRROR, registered, f"msme-{lot.weaver}", 1, registered.at, "admin:ops")],
        [
            _delivery(POOLING_SAGA, received, pool_stream, 1, received.at, "aggregator:dewi"),
            _delivery(POOLING_SAGA, passed, pool_stream, 2, passed.at, "pooling:quality-saga", recorded=5),
            _delivery(POOLING_SAGA, shipped, pool_stream, 3, shipped.at, "aggregator:dewi"),
        ],
        [_delivery(QUALITY_VERDICTS, rejected, f"inspection-{lot.other_inspection}", 1, rejected.at, "inspector:odin")],
        [
            _delivery(
                QUALITY_VERDICTS, accepted, f"inspection-{lot.trusted_inspection}", 1, accepted.at, "inspector:ayu"
            )
        ],
    ]


def interleavings(streams: Sequence[Sequence[int]]) -> Iterator[list[int]]:
    """Every order of the items that keeps each stream's own order: the orders a consumer can handle them in."""
    items = [item for stream in streams for item in stream]
    stream_of = {item: n for n, stream in enumerate(streams) for item in stream}
    for order in itertools.permutations(items):
        positions = [[item for item in order if stream_of[item] == n] for n in range(len(streams))]
        if all(list(stream) == seen for stream, seen in zip(streams, positions, strict=True)):
            yield list(order)


async def what_orders_shows(pool: asyncpg.Pool, lot: Lot) -> dict[str, list[str]]:
    """Each order's history (as other services told it) and provenance CSV rows, ids replaced by their names."""
    labels = lot.labels()

    def named(text: str) -> str:
        for raw, name in labels.items():
            text = text.replace(raw, name)
        return text

    shown: dict[str, list[str]] = {}
    for order_id, line_id in ((lot.first_order, lot.first_line), (lot.second_order, lot.second_line)):
        told = await told_by_others(pool, order_id)
        order = state(history(request(order_id=order_id, lines=(line(line_id, quantity=600),))))
        provenance = provenance_csv(assemble(order, await load_supply(pool, order_id)))
        shown[f"{labels[str(order_id)]} history"] = [
            named(f"{e.item.at.isoformat()} {e.item.service} {e.item.event} by {e.item.actor}: {e.item.summary}")
            for e in told
        ]
        shown[f"{labels[str(order_id)]} provenance"] = [named(row) for row in provenance.splitlines()[1:]]
    return shown


async def test_both_orders_show_the_same_history_and_provenance_whatever_order_the_lots_events_arrive_in(
    pool: asyncpg.Pool,
) -> None:
    store = EventStore(pool, "orders", CODEC)
    layout = streams(Lot.new())
    numbered = [[(n, m) for m in range(len(stream))] for n, stream in enumerate(layout)]
    orders_of_handling = list(interleavings(numbered))
    assert len(orders_of_handling) == 120

    async def run(order: list[tuple[int, int]]) -> tuple[Lot, Deliveries, dict[str, list[str]]]:
        lot = Lot.new()
        deliveries = streams(lot)
        for n, m in order:
            subscription, delivery = deliveries[n][m]
            assert await handle_once(pool, store, subscription, delivery)
        return lot, deliveries, await what_orders_shows(pool, lot)

    lot, deliveries, expected = await run(
        orders_of_handling[0]
    )  # each stream's events after the other's: catalog first
    await first_shows_the_lot_told_and_judged(pool, lot)
    at_once = asyncio.Semaphore(4)  # the runs share nothing but the database: a few at a time keeps it short

    async def run_and_compare(order: list[tuple[int, int]]) -> None:
        async with at_once:
            *_, shown = await run(order)
        assert shown == expected, f"handled in the order {order}"

    await asyncio.gather(*(run_and_compare(order) for order in orders_of_handling[1:]))

    for stream in deliveries:  # the first run's events again: each a duplicate the inbox turns away
        for subscription, delivery in stream:
            assert not await handle_once(pool, store, subscription, delivery)
    assert await what_orders_shows(pool, lot) == expected
    for stream in deliveries:  # and each handler run again past the inbox (as a replay would) changes nothing
        for subscription, delivery in stream:
            async with pool.acquire() as connection, connection.transaction():
                await _handle_in(connection, store, subscription, delivery)
    assert await what_orders_shows(pool, lot) == expected


async def first_shows_the_lot_told_and_judged(pool: asyncpg.Pool, lot: Lot) -> None:
    """What both orders show once everything arrived: the lot in words, both verdicts, the one that counted."""
    for order_id, share in ((lot.first_order, "400"), (lot.second_order, "200")):
        told = [(entry.item.event, entry.item.summary) for entry in await told_by_others(pool, order_id)]
        assert [event for event, _ in told] == [
            "LotReceived", "LotRejected", "LotAccepted", "LotPassed", "ConsignmentShipped",
        ], told  # fmt: skip
        summaries = dict(told)
        assert summaries["LotReceived"].startswith(
            f"Lot CRB-001 of 600 ({share} for this order) PCE from MSME {WEAVER_NAME}"
        )
        assert summaries["LotAccepted"].startswith(
            f"Lot CRB-001 of MSME {WEAVER_NAME} accepted at normal inspection by {TRUSTED_LAB} (major AQL 1.0: code J"
        )
        assert summaries["LotRejected"].endswith(": 7 major defects reach Re 3")
        assert summaries["LotPassed"] == f"Lot CRB-001 of MSME {WEAVER_NAME} passed inspection: 600 units count"
        supply = await load_supply(pool, order_id)
        counted = {i.inspection_id: i.inspection_id == supply.lots[lot.lot].decided_by for i in supply.inspections}
        assert counted == {lot.trusted_inspection: True, lot.other_inspection: False}
        assert supply.lots[lot.lot].consignment_id == lot.consignment


async def _handle_in(
    connection: asyncpg.Connection, store: EventStore, subscription: Subscription, delivery: Delivery
) -> None:
    await subscription.handle(HandlerContext(connection, store, subscription.name), delivery)


async def _waits_or_done(pool: asyncpg.Pool, pid: int, task: asyncio.Task[None]) -> bool:
    if task.done():
        return True
    waiting = await pool.fetchval("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $1", pid)
    return bool(waiting)


@pytest.mark.parametrize("first", ["the lot", "the verdict"])
async def test_a_verdict_handled_while_the_lot_is_being_handled_reaches_both_orders(
    pool: asyncpg.Pool, first: str
) -> None:
    """The pooling and quality subscriptions run side by side, each in its own transaction."""
    store = EventStore(pool, "orders", CODEC)
    lot = Lot.new()
    catalog, pooling, *_, trusted = streams(lot)
    assert await handle_once(pool, store, *catalog[0])
    lot_received, verdict = pooling[0], trusted[0]
    one, other = (lot_received, verdict) if first == "the lot" else (verdict, lot_received)
    async with pool.acquire() as early, pool.acquire() as late:
        opened = early.transaction()
        await opened.start()
        await _handle_in(early, store, *one)

        async def handle_other() -> None:
            async with late.transaction():
                await _handle_in(late, store, *other)

        meanwhile = asyncio.create_task(handle_other())
        await eventually(lambda: _waits_or_done(pool, late.get_server_pid(), meanwhile))
        await opened.commit()
        await meanwhile
    for order_id in (lot.first_order, lot.second_order):
        told = [entry.item.event for entry in await told_by_others(pool, order_id)]
        assert sorted(told) == ["LotAccepted", "LotReceived"], (order_id, told)
