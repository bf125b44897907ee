"""Tracing's pieces without servers: when the OTEL_* variables turn it on, and how each hop's span joins the one
before it through the W3C trace context stored with events and carried in message headers."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, cast

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased
from opentelemetry.trace import SpanKind, StatusCode

from shared import inbox, tracing
from shared.eventstore import Metadata
from shared.inbox import Delivery, HandlerContext
from shared.kernel.ids import new_id
from shared.tracing import TracingError, provider_from_environment
from tests.support.ledger import Opened

pytestmark = pytest.mark.unit
OTEL = [
    "OTEL_SDK_DISABLED", "OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_SERVICE_NAME",
    "OTEL_RESOURCE_ATTRIBUTES", "OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG",
]  # fmt: skip


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in OTEL:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def service_of(provider: TracerProvider) -> object:
    return provider.resource.attributes["service.name"]


@pytest.mark.parametrize(
    "variables",
    [
        {},
        {"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"},
        {"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"},
        {"OTEL_SERVICE_NAME": "gotong-orders"},  # a name is not an exporter
    ],
)
def test_tracing_is_off_unless_an_exporter_is_named(environment: pytest.MonkeyPatch, variables: dict[str, str]) -> None:
    for name, value in variables.items():
        environment.setenv(name, value)
    assert provider_from_environment(["orders"]) is None


def test_an_otlp_endpoint_turns_tracing_on_named_after_the_service(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")
    environment.setenv("OTEL_TRACES_SAMPLER", "parentbased_traceidratio")
    environment.setenv("OTEL_TRACES_SAMPLER_ARG", "0.25")
    alone, together = provider_from_environment(["orders"]), provider_from_environment(["orders", "pooling"])
    assert alone is not None and together is not None
    try:
        assert (service_of(alone), service_of(together)) == ("gotong-orders", "gotong")
        assert isinstance(alone.sampler, ParentBased)
        assert "TraceIdRatioBased{0.25}" in alone.sampler.get_description()
    finally:
        alone.shutdown()
        together.shutdown()
    environment.setenv("OTEL_SERVICE_NAME", "marketplace-orders")
    named = provider_from_environment(["orders"])
    assert named is not None
    named.shutdown()
    assert service_of(named) == "marketplace-orders"


@pytest.mark.parametrize(
    ("variables", "complaint"),
    [
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, "http/protobuf"),
        ({"OTEL_TRACES_EXPORTER": "zipkin"}, "otlp, console or none"),
    ],
)
def test_what_is_not_installed_is_refused_by_name(
    environment: pytest.MonkeyPatch, variables: dict[str, str], complaint: str
) -> None:
    for name, value in variables.items():
        environment.setenv(name, value)
    with pytest.raises(TracingError, match=complaint):
        provider_from_environment(["orders"])


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.enable(provider)
    try:
        yield exporter
    finally:
        tracing.disable()
        provider.shutdown()


def named(exporter: InMemorySpanExporter, name: str) -> ReadableSpan:
    (found,) = [s for s in exporter.get_finished_spans() if s.name == name]
    return found


def test_off_nothing_is_made_and_nothing_is_stamped() -> None:
    assert not tracing.enabled() and tracing.current() is None
    headers = {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}
    assert tracing.publishing("orders", "gotong.orders.OrderConfirmed", "e-1", "order-1", headers) is None
    assert headers == {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}  # passed on as is
    with tracing.appending("orders", ["order-1"], 1, None, None) as stamp:
        assert stamp is None
    with tracing.serving("POST", "/v1/orders", "/v1/orders", "orders", {}) as span:
        assert span is None


def test_an_append_continues_the_current_span_or_else_the_stored_one(spans: InMemorySpanExporter) -> None:
    stored = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    with tracing.appending("pooling", ["pool-1"], 2, stored, "vendor=1") as stamp:
        assert stamp is not None and stamp.traceparent.split("-")[1] == "0af7651916cd43dd8448eb211c80319c"
        assert stamp.tracestate == "vendor=1"
    worker = named(spans, "append pooling")
    assert worker.parent is not None and f"{worker.parent.span_id:016x}" == "b7ad6b7169203331"
    assert stamp.traceparent.split("-")[2] == f"{worker.context.span_id:016x}"
    assert worker.attributes is not None and worker.attributes["gotong.events"] == 2

    with (
        tracing.serving("POST", "/v1/pools", "/v1/pools", "pooling", {}) as request,
        tracing.appending("pooling", ["pool-2"], 1, stored, None),
    ):
        assert request is not None
        tracing.answered(request, 201)
    http, append = named(spans, "POST /v1/pools"), spans.get_finished_spans()[-2]
    assert http.kind is SpanKind.SERVER and http.parent is None  # a request starts its own trace
    assert append.parent is not None and append.parent.span_id == http.context.span_id


def test_a_request_continues_its_caller_s_trace(spans: InMemorySpanExporter) -> None:
    caller = {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}
    with tracing.serving("GET", "/v1/orders/{order_id}", "/v1/orders/1", "orders", caller) as span:
        tracing.answered(span, 503)
    (served,) = spans.get_finished_spans()
    assert f"{served.context.trace_id:032x}" == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert served.status.status_code is StatusCode.ERROR


async def test_a_publish_span_carries_its_context_and_ends_when_acknowledged(spans: InMemorySpanExporter) -> None:
    stored = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    headers = {"Gotong-Event-Id": "e-1", "traceparent": stored, "tracestate": "vendor=1"}
    subject = "gotong.orders.OrderConfirmed"
    span = tracing.publishing("orders", subject, "e-1", "order-1", headers)
    assert span is not None and headers["traceparent"] != stored and headers["tracestate"] == "vendor=1"
    loop = asyncio.get_running_loop()
    ack, lost = loop.create_future(), loop.create_future()
    tracing.sent(span, ack)
    assert not spans.get_finished_spans()  # in flight until JetStream answers
    ack.set_result(object())
    await asyncio.sleep(0)
    (sent,) = spans.get_finished_spans()
    assert sent.kind is SpanKind.PRODUCER and sent.parent is not None
    assert headers["traceparent"].split("-")[2] == f"{sent.context.span_id:016x}"

    with tracing.consuming("pooling", "orders-saga", "orders.OrderConfirmed.v1", "e-1", headers["traceparent"], None):
        pass
    taken = named(spans, "process orders.OrderConfirmed.v1")
    assert taken.kind is SpanKind.CONSUMER and taken.parent is not None
    assert taken.parent.span_id == sent.context.span_id

    tracing.sent(tracing.publishing("orders", subject, "e-2", "order-1", {}), lost)
    lost.cancel()
    await asyncio.sleep(0)
    assert spans.get_finished_spans()[-1].status.status_code is StatusCode.ERROR


def test_a_projection_spans_only_events_that_carry_a_trace(spans: InMemorySpanExporter) -> None:
    with tracing.projecting("orders", "orders", "OrderConfirmed", "e-1", None, None):
        pass
    assert not spans.get_finished_spans()
    stored = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    with tracing.projecting("orders", "orders", "OrderConfirmed", "e-1", stored, None):
        pass
    projected = named(spans, "project orders.orders")
    assert projected.parent is not None and f"{projected.parent.span_id:016x}" == "b7ad6b7169203331"


def test_a_batch_projected_at_once_is_one_span_under_its_first_traced_append_linked_to_the_others(
    spans: InMemorySpanExporter,
) -> None:
    with tracing.projecting_batch("catalog", "catalog", 3, []):
        pass
    assert not spans.get_finished_spans()
    first = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    other = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    with tracing.projecting_batch("catalog", "catalog", 3, [(first, None), (first, None), (other, "vendor=1")]):
        pass
    projected = named(spans, "project catalog.catalog")
    assert projected.parent is not None and f"{projected.parent.span_id:016x}" == "b7ad6b7169203331"
    assert f"{projected.context.trace_id:032x}" == "0af7651916cd43dd8448eb211c80319c"
    linked = [(f"{link.context.trace_id:032x}", f"{link.context.span_id:016x}") for link in projected.links]
    assert linked == [("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7")]
    assert projected.attributes is not None and projected.attributes["gotong.events"] == 3


async def test_a_batch_consumed_at_once_is_one_span_under_its_first_traced_publish_and_what_it_causes_continues_it(
    spans: InMemorySpanExporter,
) -> None:
    first = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    other = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    deliveries = [
        Delivery(
            event=Opened(owner=f"weaver-{n}"),
            event_id=new_id(),
            stream_id=f"acct-{n}",
            stream_version=1,
            position=n,
            metadata=Metadata(),
            recorded_at=datetime.now(UTC),
            source="ledger",
            traceparent=traceparent,
        )
        for n, traceparent in enumerate([None, first, other])
    ]
    caused: list[str | None] = []

    async def handle_many(context: HandlerContext, batch: Sequence[Delivery]) -> None:
        caused.extend(delivery.caused("pooling:test").traceparent for delivery in batch)

    context = HandlerContext(cast(Any, None), cast(Any, SimpleNamespace(schema="pooling")), "pooling-ledger")
    await inbox._take_many(context, handle_many, "pooling-ledger", deliveries)

    taken = named(spans, "process pooling-ledger batch")
    assert taken.kind is SpanKind.CONSUMER and taken.parent is not None
    assert f"{taken.parent.span_id:016x}" == "b7ad6b7169203331"
    assert [f"{link.context.span_id:016x}" for link in taken.links] == ["00f067aa0ba902b7"]
    assert taken.attributes is not None and taken.attributes["messaging.batch.message_count"] == 3
    batch = f"00-0af7651916cd43dd8448eb211c80319c-{taken.context.span_id:016x}-01"
    assert caused == [batch] * 3, "what the batch causes continues the batch's span (its appends are stamped so)"
