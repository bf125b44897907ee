"""Prometheus metrics of a Gotong process, served at ``/metrics``.

Counters and histograms are counted as things happen (HTTP requests, appends, handler failures, allocation
solves); lags are measured when Prometheus scrapes (relay lag, consumer pending messages from JetStream,
projection lag, dead letters), so nothing runs between scrapes. ``/metrics`` is open like ``/health``: keep it
off the public proxy and let only Prometheus reach it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from shared.runtime import Runtime

log = logging.getLogger("gotong.metrics")
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
SCRAPE_TIMEOUT = 3.0  # seconds one scrape waits for PostgreSQL and NATS before leaving a lag out
LAG_COUNTED = 1_000_000  # a projection's lag is counted up to this many events, so a scrape stays cheap

HTTP_REQUESTS = Counter(
    "gotong_http_requests", "HTTP requests answered, by route template and status", ["method", "route", "status"]
)
HTTP_DURATION = Histogram(
    "gotong_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
EVENTS_APPENDED = Counter(
    "gotong_events_appended",
    "Events appended to a service's event store (a transaction may still roll back)",
    ["service"],
)
APPEND_CONFLICTS = Counter(
    "gotong_event_store_conflicts", "Appends refused because a stream was not at the expected version", ["service"]
)
HANDLER_FAILURES = Counter(
    "gotong_consumer_handler_failures", "Times a handler failed on another service's event", ["consumer"]
)
DEAD_LETTERED = Counter(
    "gotong_consumer_dead_lettered_events", "Events a handler kept failing on, sent to the dead letters", ["consumer"]
)
ALLOCATION_SECONDS = Histogram(
    "gotong_allocation_solve_seconds",
    "Time the allocation engine took to propose a pool's supply",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
)
ALLOCATION_GAP = Histogram(
    "gotong_allocation_mip_gap",
    "Relative gap between the allocation engine's answer and its best bound (0: proven optimal)",
    buckets=(0, 0.0001, 0.001, 0.01, 0.05, 0.1, 0.5, 1),
)

Families = dict[str, GaugeMetricFamily | CounterMetricFamily]
_routes: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    """Count one answered request; labels are the route template (``/v1/orders/{order_id}``), never the path."""
    key = (method, route, status)
    children = _routes.get(key)
    if children is None:
        children = _routes[key] = (
            HTTP_REQUESTS.labels(method, route, str(status)),
            HTTP_DURATION.labels(method, route),
        )
    children[0].inc()
    children[1].observe(seconds)


def allocation_solved(seconds: float, mip_gap: float) -> None:
    ALLOCATION_SECONDS.observe(seconds)
    if math.isfinite(mip_gap):
        ALLOCATION_GAP.observe(mip_gap)


class _Measured(Collector):
    """What one scrape measured of a runtime, as metric families."""

    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterator[Metric]:
        yield from self.families


async def _service_lags(runtime: Runtime, families: Families) -> None:
    """Relay lag, projection lag and dead letters of each service, from its schema in PostgreSQL."""
    assert runtime.pool is not None
    for name, context in runtime.contexts.items():
        async with runtime.pool.acquire() as connection:
            checkpoints = await connection.fetch(f"SELECT name, transaction_id, position FROM {name}.checkpoints")
            reached = {row["name"]: row for row in checkpoints}
            relay = reached.get("relay")
            oldest = await connection.fetchval(
                f"SELECT extract(epoch FROM now() - recorded_at)::float8 FROM {name}.events "
                "WHERE (transaction_id, position) > ($1::text::xid8, $2) ORDER BY transaction_id, position LIMIT 1",
                str(relay["transaction_id"] if relay else 0),
                relay["position"] if relay else 0,
            )
            families["relay_lag"].add_metric([name], max(0.0, oldest or 0.0))
            for projection in context.service.projections:
                row = reached.get(projection.checkpoint)
                behind = await connection.fetchval(
                    f"SELECT count(*) FROM (SELECT FROM {name}.events WHERE (transaction_id, position) > "
                    "($1::text::xid8, $2) ORDER BY transaction_id, position LIMIT $3) AS ahead",
                    str(row["transaction_id"] if row else 0),
                    row["position"] if row else 0,
                    LAG_COUNTED,
                )
                families["projection_lag"].add_metric([name, projection.name], behind)
            letters = await connection.fetch(
                f"SELECT consumer, count(*) AS n FROM {name}.dead_letters WHERE replayed_at IS NULL GROUP BY consumer"
            )
            for row in letters:
                families["dead_letters"].add_metric([name, row["consumer"]], row["n"])
            parked = await connection.fetch(
                f"SELECT projection, count(*) AS n FROM {name}.projection_dead_letters GROUP BY projection"
            )
            for row in parked:
                families["parked"].add_metric([name, row["projection"]], row["n"])


async def _consumer_lags(runtime: Runtime, families: Families) -> None:
    """Messages each durable consumer has still to take, and those JetStream is delivering again."""
    assert runtime.js is not None
    for consumer in runtime.consumers:
        info = await runtime.js.consumer_info(consumer.stream, consumer.durable)
        families["pending"].add_metric([consumer.durable], info.num_pending or 0)
        families["unacknowledged"].add_metric([consumer.durable], info.num_ack_pending or 0)
        families["redelivered"].add_metric([consumer.durable], info.num_redelivered or 0)


def _families(runtime: Runtime) -> Families:
    gauge, counter = GaugeMetricFamily, CounterMetricFamily
    families: Families = {
        "relay_active": gauge(
            "gotong_relay_active", "1 where this process holds the service's relay", labels=["service"]
        ),
        "relay_published": counter(
            "gotong_relay_published_events", "Events this process's relay published to JetStream", labels=["service"]
        ),
        "relay_lag": gauge(
            "gotong_relay_lag_seconds",
            "Age of the oldest event not yet published (0: none waiting)",
            labels=["service"],
        ),
        "projection_lag": gauge(
            "gotong_projection_lag_events",
            "Events after the projection's checkpoint in the store's global order (counted up to 1,000,000)",
            labels=["service", "projection"],
        ),
        "dead_letters": gauge(
            "gotong_dead_letters", "Events in the dead letters, not replayed", labels=["service", "consumer"]
        ),
        "parked": gauge(
            "gotong_projection_parked_events", "Events a projection could not apply", labels=["service", "projection"]
        ),
        "handled": counter(
            "gotong_consumer_handled_events",
            "Events this process's consumer handled and acknowledged",
            labels=["consumer"],
        ),
        "leased": gauge(
            "gotong_consumer_leased",
            "1 while this process runs the consumer (each runs in one replica at a time)",
            labels=["consumer"],
        ),
        "pending": gauge(
            "gotong_consumer_pending_messages",
            "Messages in the stream the durable consumer has not taken yet",
            labels=["consumer"],
        ),
        "unacknowledged": gauge(
            "gotong_consumer_unacknowledged_messages",
            "Messages delivered and not yet acknowledged",
            labels=["consumer"],
        ),
        "redelivered": gauge(
            "gotong_consumer_redelivered_messages",
            "Unacknowledged messages delivered more than once",
            labels=["consumer"],
        ),
    }
    for name, relay in runtime.relays.items():
        families["relay_active"].add_metric([name], 1.0 if relay.active else 0.0)
        families["relay_published"].add_metric([name], relay.published)
    for consumer in runtime.consumers:
        families["handled"].add_metric([consumer.durable], consumer.handled)
        families["leased"].add_metric([consumer.durable], 1.0 if consumer.leased.is_set() else 0.0)
    return families


async def exposition(runtime: Runtime) -> bytes:
    """The process's counters and the runtime's lags in Prometheus' text format. A lag PostgreSQL or NATS
    cannot tell within the scrape timeout is left out (the scrape itself still answers)."""
    families = _families(runtime)
    for measure in (_service_lags, _consumer_lags):
        try:
            await asyncio.wait_for(measure(runtime, families), SCRAPE_TIMEOUT)
        except Exception as error:  # an outage: /ready says so, the scrape goes on
            log.debug("metrics: %s: %s", measure.__name__, error)
    measured = CollectorRegistry(auto_describe=False)
    with contextlib.suppress(ValueError):
        measured.register(_Measured(list(families.values())))
    return generate_latest(REGISTRY) + generate_latest(measured)
