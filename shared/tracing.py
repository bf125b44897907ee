"""Traces that follow a command across services: OpenTelemetry spans joined by W3C trace context.

The HTTP request's span is the root (or continues the caller's ``traceparent``). An append's span stores its
context with the events it appends (``Metadata.traceparent``), since the relay publishes them later; the relay's
publish span is its child and travels in the NATS message's ``traceparent``/``tracestate`` headers; the
consuming service's span is a child of that, and what its handler appends carries the trace on. Projections
applying an event open a span under the append that stored it.

Off by default: unless the standard ``OTEL_*`` variables name an exporter, no span is made and no event carries
a trace context. ``configure`` reads them once at the entry point; tests ``enable`` a provider of their own.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, NamedTuple

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.trace import Span, SpanContext, SpanKind, Status, StatusCode, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from shared.config import SettingsError

log = logging.getLogger("gotong.tracing")
TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"
_propagator = TraceContextTextMapPropagator()
_tracer: Tracer | None = None
_NOTHING: AbstractContextManager[None] = nullcontext()
_NO_SPAN: AbstractContextManager[Span | None] = nullcontext()


class TraceContext(NamedTuple):
    """A span's W3C ``traceparent`` and ``tracestate`` (None when empty)."""

    traceparent: str
    tracestate: str | None


class TracingError(SettingsError):
    """The ``OTEL_*`` variables ask for something Gotong cannot do."""


def enable(provider: TracerProvider) -> None:
    """Trace with ``provider`` from now on."""
    global _tracer
    _tracer = provider.get_tracer("gotong")


def disable() -> None:
    global _tracer
    _tracer = None


def enabled() -> bool:
    return _tracer is not None


def configure(services: Sequence[str]) -> TracerProvider | None:
    """Trace as the ``OTEL_*`` variables say (see ``provider_from_environment``), for the whole process.
    Returns the provider, which the caller shuts down (flushing its spans) on the way out; None when off."""
    provider = provider_from_environment(services)
    if provider is not None:
        trace.set_tracer_provider(provider)
        enable(provider)
        log.info("tracing: exporting spans as %s", provider.resource.attributes[SERVICE_NAME])
    return provider


def provider_from_environment(services: Sequence[str]) -> TracerProvider | None:
    """A provider exporting spans when the standard variables name an exporter: ``OTEL_TRACES_EXPORTER``
    (``otlp``, ``console`` or ``none``), else an OTLP endpoint (``OTEL_EXPORTER_OTLP_ENDPOINT`` or
    ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``); None without one, or with ``OTEL_SDK_DISABLED=true``.

    The exporter's endpoint, headers, timeout and compression, the batch processor (``OTEL_BSP_*``), the sampler
    (``OTEL_TRACES_SAMPLER``/``_ARG``, default parent-based always-on) and the resource (``OTEL_SERVICE_NAME``,
    ``OTEL_RESOURCE_ATTRIBUTES``) are read by the SDK from the same variables. Without a service name the
    service is ``gotong-<service>``, or ``gotong`` for a process serving several.
    """
    env = os.environ
    if (env.get("OTEL_SDK_DISABLED") or "").strip().lower() == "true":
        return None
    chosen = (env.get("OTEL_TRACES_EXPORTER") or "").strip().lower()
    if not chosen:
        endpoint = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        chosen = "otlp" if endpoint else "none"
    exporter: SpanExporter
    match chosen:
        case "none":
            return None
        case "otlp":
            protocol = env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or env.get("OTEL_EXPORTER_OTLP_PROTOCOL")
            if protocol not in (None, "", "http/protobuf"):
                raise TracingError(f"OTLP over {protocol} is not installed; use http/protobuf (port 4318)")
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporter = OTLPSpanExporter()
        case "console":
            exporter = ConsoleSpanExporter()
        case _:
            raise TracingError(f"OTEL_TRACES_EXPORTER must be otlp, console or none, got {chosen!r}")
    resource = Resource.create()
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        name = f"gotong-{services[0]}" if len(services) == 1 else "gotong"
        resource = resource.merge(Resource({SERVICE_NAME: name}))
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def context_of(span: Span) -> TraceContext | None:
    """``span``'s W3C headers; None for an invalid span."""
    carrier: dict[str, str] = {}
    _propagator.inject(carrier, trace.set_span_in_context(span))
    if TRACEPARENT not in carrier:
        return None
    return TraceContext(carrier[TRACEPARENT], carrier.get(TRACESTATE) or None)


def current() -> TraceContext | None:
    """The current span's W3C headers; None when tracing is off or no span is current."""
    if _tracer is None:
        return None
    return context_of(trace.get_current_span())


def _parent(traceparent: str | None, tracestate: str | None) -> otel_context.Context | None:
    """The context a span continues: the current span's if one is current, else the stored one."""
    if trace.get_current_span().get_span_context().is_valid or traceparent is None:
        return None
    return _remote(_carrier(traceparent, tracestate))


def _carrier(traceparent: str | None, tracestate: str | None) -> dict[str, str]:
    carrier = {} if traceparent is None else {TRACEPARENT: traceparent}
    if traceparent is not None and tracestate:
        carrier[TRACESTATE] = tracestate
    return carrier


def _remote(headers: Mapping[str, str]) -> otel_context.Context:
    """Only the caller's trace context, never the current one: a request or message starts afresh."""
    return _propagator.extract(headers, otel_context.Context())


def serving(
    method: str, route: str, path: str, service: str | None, headers: Mapping[str, str]
) -> AbstractContextManager[Span | None]:
    """The span of one HTTP request, continuing the caller's ``traceparent`` if it sent one."""
    if _tracer is None:
        return _NO_SPAN
    return _serving(method, route, path, service, headers)


@contextmanager
def _serving(method: str, route: str, path: str, service: str | None, headers: Mapping[str, str]) -> Iterator[Span]:
    assert _tracer is not None
    attributes = {"http.request.method": method, "http.route": route, "url.path": path}
    if service:
        attributes["gotong.service"] = service
    with _tracer.start_as_current_span(
        f"{method} {route}", context=_remote(headers), kind=SpanKind.SERVER, attributes=attributes
    ) as span:
        yield span


def answered(span: Span | None, status: int) -> None:
    if span is None:
        return
    span.set_attribute("http.response.status_code", status)
    if status >= 500:
        span.set_status(Status(StatusCode.ERROR))


@contextmanager
def _appending(
    service: str, streams: Sequence[str], events: int, traceparent: str | None, tracestate: str | None
) -> Iterator[TraceContext | None]:
    assert _tracer is not None
    attributes: dict[str, Any] = {
        "db.system.name": "postgresql",
        "db.operation.name": "append",
        "gotong.service": service,
        "gotong.streams": list(streams),
        "gotong.events": events,
    }
    with _tracer.start_as_current_span(
        f"append {service}", context=_parent(traceparent, tracestate), kind=SpanKind.CLIENT, attributes=attributes
    ) as span:
        yield context_of(span)


def appending(
    service: str, streams: Sequence[str], events: int, traceparent: str | None, tracestate: str | None
) -> AbstractContextManager[TraceContext | None]:
    """The span of an append, under the current span (or, with none, the stored context the events' metadata
    names); it yields the context to store with the events (None when tracing is off)."""
    if _tracer is None:
        return _NOTHING
    return _appending(service, streams, events, traceparent, tracestate)


def publishing(service: str, subject: str, event_id: str, stream_id: str, headers: dict[str, str]) -> Span | None:
    """Start the span of publishing one event, a child of the context stored with it, and put its own context
    in ``headers``; the caller ends it with ``sent``. None when tracing is off."""
    if _tracer is None:
        return None
    span = _tracer.start_span(
        f"send {subject}",
        context=_remote(headers),
        kind=SpanKind.PRODUCER,
        attributes={
            "messaging.system": "nats",
            "messaging.operation.type": "send",
            "messaging.destination.name": subject,
            "messaging.message.id": event_id,
            "gotong.service": service,
            "gotong.stream_id": stream_id,
        },
    )
    headers.pop(TRACESTATE, None)
    _propagator.inject(headers, trace.set_span_in_context(span))
    return span


def sent(span: Span | None, ack: asyncio.Future[Any] | BaseException) -> None:
    """End a publish span when JetStream acknowledges the message (or it failed, or its ack never came)."""
    if span is None:
        return
    if isinstance(ack, BaseException):
        _failed(span, ack)
        return

    def acknowledged(done: asyncio.Future[Any]) -> None:
        if done.cancelled():
            span.set_status(Status(StatusCode.ERROR, "no acknowledgement"))
            span.end()
        elif (error := done.exception()) is not None:
            _failed(span, error)
        else:
            span.end()

    ack.add_done_callback(acknowledged)


def _failed(span: Span, error: BaseException) -> None:
    span.record_exception(error)
    span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
    span.end()


@contextmanager
def _consuming(
    service: str, consumer: str, subject: str, event_id: str, traceparent: str | None, tracestate: str | None
) -> Iterator[None]:
    assert _tracer is not None
    attributes = {
        "messaging.system": "nats",
        "messaging.operation.type": "process",
        "messaging.destination.name": subject,
        "messaging.consumer.group.name": consumer,
        "messaging.message.id": event_id,
        "gotong.service": service,
    }
    with _tracer.start_as_current_span(
        f"process {subject}",
        context=_remote(_carrier(traceparent, tracestate)),
        kind=SpanKind.CONSUMER,
        attributes=attributes,
    ):
        yield


def consuming(
    service: str, consumer: str, subject: str, event_id: str, traceparent: str | None, tracestate: str | None
) -> AbstractContextManager[None]:
    """The span of a handler taking one event, a child of the publish span that sent it."""
    if _tracer is None:
        return _NOTHING
    return _consuming(service, consumer, subject, event_id, traceparent, tracestate)


@contextmanager
def _projecting(
    service: str, projection: str, event_type: str, event_id: str, traceparent: str, tracestate: str | None
) -> Iterator[None]:
    assert _tracer is not None
    attributes = {
        "gotong.service": service,
        "gotong.projection": projection,
        "gotong.event_type": event_type,
        "gotong.event_id": event_id,
    }
    parent = _remote(_carrier(traceparent, tracestate))
    with _tracer.start_as_current_span(f"project {service}.{projection}", context=parent, attributes=attributes):
        yield


def projecting_batch(
    service: str, projection: str, events: int, traced: Sequence[tuple[str, str | None]]
) -> AbstractContextManager[None]:
    """The span of a projection applying a batch of ``events`` at once: a child of the append that stored its first
    traced event, linked to the appends of the others (``traced``: their ``traceparent`` and ``tracestate``); none
    when no event of the batch carries a trace context."""
    if _tracer is None or not traced:
        return _NOTHING
    attributes: dict[str, str | int] = {
        "gotong.service": service,
        "gotong.projection": projection,
        "gotong.events": events,
    }
    return _batch(f"project {service}.{projection}", SpanKind.INTERNAL, attributes, traced)


def consuming_batch(
    service: str, consumer: str, events: int, traced: Sequence[tuple[str, str | None]]
) -> AbstractContextManager[None]:
    """The span of a handler taking a batch of ``events`` at once: a child of the publish that sent its first traced
    event, linked to the publishes of the others (``traced``: their ``traceparent`` and ``tracestate``); none when
    no event of the batch carries a trace context."""
    if _tracer is None or not traced:
        return _NOTHING
    attributes: dict[str, str | int] = {
        "messaging.system": "nats",
        "messaging.operation.type": "process",
        "messaging.batch.message_count": events,
        "messaging.consumer.group.name": consumer,
        "gotong.service": service,
        "gotong.events": events,
    }
    return _batch(f"process {consumer} batch", SpanKind.CONSUMER, attributes, traced)


_LINKS = 128  # OpenTelemetry's default limit of links a span keeps


@contextmanager
def _batch(
    name: str, kind: SpanKind, attributes: dict[str, str | int], traced: Sequence[tuple[str, str | None]]
) -> Iterator[None]:
    """A span for work on many events at once: under the first valid trace context of ``traced``, linked to the
    others (the first 128)."""
    assert _tracer is not None
    contexts: dict[tuple[int, int], tuple[SpanContext, otel_context.Context]] = {}
    for traceparent, tracestate in traced:
        context = _remote(_carrier(traceparent, tracestate))
        span = trace.get_current_span(context).get_span_context()
        if span.is_valid:
            contexts.setdefault((span.trace_id, span.span_id), (span, context))
    found = list(contexts.values())
    parent = found[0][1] if found else otel_context.Context()  # none valid: a root, as one event's span makes
    links = [trace.Link(span) for span, _ in found[1 : 1 + _LINKS]]
    with _tracer.start_as_current_span(name, context=parent, kind=kind, attributes=attributes, links=links):
        yield


def projecting(
    service: str, projection: str, event_type: str, event_id: str, traceparent: str | None, tracestate: str | None
) -> AbstractContextManager[None]:
    """The span of a projection applying an event, under the append that stored it; only for events that
    carry a trace context (events appended while tracing was off add none)."""
    if _tracer is None or traceparent is None:
        return _NOTHING
    return _projecting(service, projection, event_type, event_id, traceparent, tracestate)
