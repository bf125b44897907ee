"""One trace follows a buyer's confirmation from the orders API through orders' event store, its relay and NATS to
pooling's saga, pooling's own appends and projections: every hop is the child of the one before, across the bus.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import asyncpg
import msgspec
import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from shared import bus, tracing
from tests.integration.flow.marketplace import Marketplace, eventually

pytestmark = pytest.mark.integration


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Tracing on, into memory, for this test only."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource({"service.name": "gotong-test"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.enable(provider)
    try:
        yield exporter
    finally:
        tracing.disable()
        provider.shutdown()


@pytest.fixture
def traced(spans: InMemorySpanExporter, market: Marketplace) -> Marketplace:
    """The flow's marketplace, started once tracing is on."""
    return market


def attribute(span: ReadableSpan, name: str) -> Any:
    return (span.attributes or {}).get(name)


def parent_of(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent else None


def child(spans: Sequence[ReadableSpan], parent: ReadableSpan, name: str, service: str) -> ReadableSpan | None:
    """A span called ``name`` of ``service`` under ``parent`` (an append of several events has a publish and a
    projection span for each): its child, or, for a batch applied at once, whose span is a child of its first
    traced event's and linked to the others', a span linked to it."""
    under = parent.context.span_id
    found = (
        s
        for s in spans
        if s.name == name
        and attribute(s, "gotong.service") == service
        and (parent_of(s) == under or any(link.context.span_id == under for link in s.links))
    )
    return next(found, None)


async def test_a_confirmed_order_and_pooling_taking_it_up_are_one_trace(
    traced: Marketplace, spans: InMemorySpanExporter, pool: asyncpg.Pool
) -> None:
    market = traced
    standard = await market.publish_standard()
    await market.register_buyer()
    pool_id = await market.open_pool(standard)
    order = await market.confirmed_order(standard, [300])
    await market.pool_where(pool_id, lambda p: p["demand"] == 300, "the order line joins the pool")
    prefix = market.runtime.settings.nats_prefix

    (confirm,) = [
        s
        for s in spans.get_finished_spans()
        if s.kind is SpanKind.SERVER and attribute(s, "http.route") == "/v1/orders/{order_id}/confirm"
    ]
    assert confirm.name == "POST /v1/orders/{order_id}/confirm" and confirm.parent is None
    assert attribute(confirm, "gotong.service") == "orders" and attribute(confirm, "http.response.status_code") == 200

    async def hops() -> dict[str, ReadableSpan] | None:
        trace = [s for s in spans.get_finished_spans() if s.context.trace_id == confirm.context.trace_id]
        chain: dict[str, ReadableSpan] = {"http": confirm}
        steps = [
            ("append", "http", "append orders", "orders"),
            ("send", "append", f"send {prefix}.orders.OrderConfirmed", "orders"),
            ("process", "send", "process orders.OrderConfirmed.v1", "pooling"),
            ("pooling append", "process", "append pooling", "pooling"),
            ("orders projection", "append", "project orders.orders", "orders"),
            ("pooling projection", "pooling append", "project pooling.pooling", "pooling"),
        ]
        for step, parent, name, service in steps:
            found = child(trace, chain[parent], name, service)
            if found is None:
                return None
            chain[step] = found
        return chain

    chain = await eventually(hops, what="every hop of the confirmation is in its trace, or linked to it")
    assert chain["send"].kind is SpanKind.PRODUCER and chain["process"].kind is SpanKind.CONSUMER
    assert attribute(chain["send"], "messaging.destination.name") == f"{prefix}.orders.OrderConfirmed"
    assert attribute(chain["process"], "messaging.message.id") == attribute(chain["send"], "messaging.message.id")

    # What the relay sent was stored with the event: the append's span, which the relay continued.
    async with pool.acquire() as connection:
        stored = await connection.fetchrow(
            "SELECT event_id::text AS event_id, metadata::text AS metadata FROM orders.events "
            "WHERE event_type = 'OrderConfirmed' AND stream_id LIKE $1",
            f"%{order['id']}",
        )
        assert stored is not None
        metadata = msgspec.json.decode(stored["metadata"])
        append = chain["append"].context
        assert metadata["traceparent"].split("-")[1:3] == [f"{append.trace_id:032x}", f"{append.span_id:016x}"]
        assert attribute(chain["send"], "messaging.message.id") == stored["event_id"]
        # pooling's events, appended by the saga, carry the trace on
        (demand,) = await connection.fetch(
            "SELECT metadata::text AS metadata FROM pooling.events WHERE event_type = 'DemandAdded'"
        )
        assert msgspec.json.decode(demand["metadata"])["traceparent"].split("-")[1] == f"{append.trace_id:032x}"


async def test_with_tracing_off_no_event_or_message_carries_a_trace_context(
    market: Marketplace, pool: asyncpg.Pool
) -> None:
    assert not tracing.enabled()
    standard = await market.publish_standard()
    await market.register_buyer()
    pool_id = await market.open_pool(standard)
    await market.confirmed_order(standard, [300])
    await market.pool_where(pool_id, lambda p: p["demand"] == 300, "the order line joins the pool")

    async with pool.acquire() as connection:
        for service in ("quality", "orders", "pooling"):
            rows = await connection.fetch(f"SELECT metadata::text AS metadata FROM {service}.events")
            keys = set().union(*(msgspec.json.decode(row["metadata"]).keys() for row in rows))
            assert rows and "correlation_id" in keys and not {"traceparent", "tracestate"} & keys, service
    js = market.runtime.js
    assert js is not None
    prefix = market.runtime.settings.nats_prefix
    for service, event in (("orders", "OrderConfirmed"), ("pooling", "DemandAdded")):
        message = await js.get_last_msg(bus.stream_name(prefix, service), bus.subject(prefix, service, event))
        assert message.headers and bus.EVENT_ID in message.headers and "traceparent" not in message.headers
