"""``/metrics`` after a small marketplace flow: every family counts what happened, and every lag shows when
the thing it watches stands still."""

from __future__ import annotations

import asyncio
from collections import defaultdict

import asyncpg
import pytest
from prometheus_client.parser import text_string_to_metric_families

from shared import bus
from shared.eventstore import EventStore, StreamConflict
from shared.runtime import Runtime
from tests.conftest import Servers
from tests.integration.flow.marketplace import Marketplace, eventually

pytestmark = pytest.mark.integration

COUNTED = [  # grow with what the flow does
    "gotong_http_requests",
    "gotong_http_request_duration_seconds",
    "gotong_events_appended",
    "gotong_event_store_conflicts",
    "gotong_relay_published_events",
    "gotong_consumer_handled_events",
    "gotong_consumer_handler_failures",
    "gotong_consumer_dead_lettered_events",
    "gotong_allocation_solve_seconds",
    "gotong_allocation_mip_gap",
]
LAGGING = [  # above zero while a relay, a projector and a consumer stand still
    "gotong_relay_lag_seconds",
    "gotong_projection_lag_events",
    "gotong_consumer_pending_messages",
    "gotong_dead_letters",
    "gotong_relay_active",
]
PRESENT = ["gotong_consumer_unacknowledged_messages", "gotong_consumer_redelivered_messages"]


async def scrape(market: Marketplace) -> dict[str, dict[tuple[str, tuple[tuple[str, str], ...]], float]]:
    """family → (sample name, labels) → value."""
    response = await market.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples: dict[str, dict[tuple[str, tuple[tuple[str, str], ...]], float]] = defaultdict(dict)
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[family.name][(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def total(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float]) -> float:
    """A family's count: the sum of its counters, or of its histograms' observation counts."""
    counts = [value for (name, _), value in samples.items() if name.endswith("_count")]
    return sum(counts) if counts else sum(value for (name, _), value in samples.items() if name.endswith("_total"))


def stop(runtime: Runtime, task: str) -> asyncio.Task[object]:
    """Cancel one of the runtime's background tasks, on the loop the app runs on."""
    (found,) = [t for t in runtime._tasks if t.get_name() == task]
    found.get_loop().call_soon_threadsafe(found.cancel)
    return found


async def ended(tasks: list[asyncio.Task[object]]) -> bool:
    """Whether every task has ended; cancels again those still running (Python 3.11 can lose a cancellation,
    see ``shared.runtime.cancel``)."""
    running = [task for task in tasks if not task.done()]
    for task in running:
        task.get_loop().call_soon_threadsafe(task.cancel)
    return not running


async def test_a_scrape_counts_the_flow_and_shows_each_lag(
    market: Marketplace, pool: asyncpg.Pool, servers: Servers
) -> None:
    before = await scrape(market)
    standard = await market.publish_standard()
    producer = await market.producer("jepara-teak", standard, name="Mebel Jati Jepara", capacity={"2027-02": 500})
    await market.qualify(producer, standard)
    await market.register_buyer()
    pool_id = await market.open_pool(standard)
    order = await market.confirmed_order(standard, [300])
    await market.pool_where(pool_id, lambda p: p["demand"] == 300, "the order line joins the pool")
    await market.allocate(pool_id, msmes=1)

    orders = EventStore(pool, "orders", market.runtime.contexts["orders"].store.codec)
    first = next(r for r in await orders.read_all() if str(order["id"]) in r.stream_id)
    with pytest.raises(StreamConflict):
        await orders.append(first.stream_id, first.stream_type, 0, [orders.decode(first)])

    # A message no handler can read, under a type orders' and quality's mirrors of catalog take (they are sent no
    # other): each consumer of it fails on it until it dead-letters it.
    nats = await bus.connect(servers.nats_url)
    try:
        subject = bus.subject(market.runtime.settings.nats_prefix, "catalog", "MsmeRegistered")
        await nats.jetstream().publish(subject, b"{", headers={bus.EVENT_ID: "not an id"})
    finally:
        await nats.close()

    # Now the relay of quality, pooling's projector and pooling's consumer of catalog stand still.
    catalog_consumer = next(
        c for c in market.runtime.consumers if c.store.schema == "pooling" and c.subscription.source == "catalog"
    )
    stopped = [
        stop(market.runtime, task)
        for task in (f"consumer:{catalog_consumer.durable}", "relay:quality", "projector:pooling")
    ]
    await eventually(lambda: ended(stopped), what="the tasks stopped")
    await market.publish_standard()
    await market.open_pool(standard)
    # Twice: a fetch the consumer had outstanding when it stopped may still take one message (unacknowledged).
    for units in (200, 250):
        capacity = {"months": {"2027-02": 500, "2027-03": units}}
        await market.call("PUT", f"/v1/products/{producer.product_id}/capacity", producer.headers, json=capacity)

    async def lagging() -> dict[str, dict[tuple[str, tuple[tuple[str, str], ...]], float]] | None:
        after = await scrape(market)
        for family in LAGGING:
            assert any(value > 0 for value in after[family].values()), f"{family}: {after[family]}"
        for family in COUNTED:
            assert total(after[family]) > total(before.get(family, {})), f"{family} did not count: {after[family]}"
        lag = {dict(labels)["service"]: value for (_, labels), value in after["gotong_relay_lag_seconds"].items()}
        assert lag["quality"] > 0 and lag["orders"] == 0, lag  # orders' relay may still be publishing a moment
        pending = {dict(labels)["consumer"]: v for (_, labels), v in after["gotong_consumer_pending_messages"].items()}
        assert pending[catalog_consumer.durable] > 0, pending
        return after

    after = await eventually(lagging, what="every family shows the flow and the lags")
    for family in PRESENT:
        assert family in after
    lag = {dict(labels)["service"]: value for (_, labels), value in after["gotong_relay_lag_seconds"].items()}
    assert lag["quality"] > 0 and lag["orders"] == 0
    pending = {dict(labels)["consumer"]: v for (_, labels), v in after["gotong_consumer_pending_messages"].items()}
    assert pending[catalog_consumer.durable] > 0
    routes = {dict(labels)["route"] for (_, labels) in after["gotong_http_requests"]}
    assert "/v1/orders/{order_id}" in routes, routes
    assert not any(str(order["id"]) in route for route in routes), "routes are templates, not paths"
