"""Traces as deployed: each service a `gotong serve` process exporting its spans over OTLP to the endpoint the
standard ``OTEL_*`` variables name. A buyer's confirmation, served by orders, and pooling's saga taking it up in
another process arrive at the collector as one trace, joined by the traceparent in the NATS message."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from tests.e2e.market import Gotong, Market, eventually
from tests.e2e.processes import GotongProcess
from tests.support.otlp import Collector, ReceivedSpan, otlp_collector

pytestmark = pytest.mark.e2e
CONSUMER = 5  # OTLP's SpanKind for a consumer span


@pytest.fixture(scope="module")
def collector() -> Iterator[Collector]:
    with otlp_collector() as running:
        yield running


@pytest.fixture(scope="module")
def module_env(module_env: dict[str, str], collector: Collector) -> dict[str, str]:
    """The processes' environment, exporting spans to the collector every 100 ms."""
    return module_env | {"OTEL_EXPORTER_OTLP_ENDPOINT": collector.url, "OTEL_BSP_SCHEDULE_DELAY": "100"}


@pytest.fixture(scope="module")
async def market(services: dict[str, GotongProcess]) -> AsyncIterator[Market]:
    async with httpx.AsyncClient(timeout=60) as client:
        yield Market(await Gotong.of(client, {name: served.url for name, served in services.items()}))


async def test_a_confirmation_and_pooling_taking_it_up_in_another_process_are_one_trace(
    market: Market, collector: Collector
) -> None:
    standard = await market.standard()
    pool_id = await market.pool(standard)
    order = await market.confirmed_order(standard, 500)
    await market.pool_where(pool_id, lambda p: p["demand"] == 500, "the confirmed order joins the pool")

    async def confirmation() -> ReceivedSpan | None:
        return next(
            (
                s
                for s in collector.spans()
                if s.service == "gotong-orders"
                and s.name == "POST /v1/orders/{order_id}/confirm"
                and s.attributes.get("url.path") == f"/v1/orders/{order['id']}/confirm"
            ),
            None,
        )

    confirm = await eventually(confirmation, "orders exports the confirmation's span")

    async def pooling_took_it() -> dict[str, ReceivedSpan] | None:
        trace = [s for s in collector.spans() if s.trace_id == confirm.trace_id]
        by_id = {s.span_id: s for s in trace}
        taken = [s for s in trace if s.service == "gotong-pooling" and s.name == "process orders.OrderConfirmed.v1"]
        projected = [s for s in trace if s.service == "gotong-pooling" and s.name == "project pooling.pooling"]
        if not taken or not projected:
            return None
        sent = by_id.get(taken[0].parent_span_id)
        return {"taken": taken[0], "sent": sent} if sent is not None else None

    hops = await eventually(pooling_took_it, "pooling exports its part of the confirmation's trace")
    assert hops["taken"].kind == CONSUMER
    assert hops["sent"].service == "gotong-orders" and hops["sent"].name.endswith(".orders.OrderConfirmed")
    assert {s.service for s in collector.spans() if s.trace_id == confirm.trace_id} >= {
        "gotong-orders",
        "gotong-pooling",
    }
