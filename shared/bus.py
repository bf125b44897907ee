"""NATS JetStream: connections, the stream of each service, subjects and event headers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError, ServiceUnavailableError

from shared.config import Settings

log = logging.getLogger("gotong.bus")
T = TypeVar("T")

# Headers the relay sets on every event it publishes.
MSG_ID = "Nats-Msg-Id"
EVENT_ID = "Gotong-Event-Id"
STREAM_ID = "Gotong-Stream-Id"
STREAM_TYPE = "Gotong-Stream-Type"
STREAM_VERSION = "Gotong-Stream-Version"
POSITION = "Gotong-Position"
EVENT_TYPE = "Gotong-Event-Type"
SCHEMA_VERSION = "Gotong-Schema-Version"
METADATA = "Gotong-Metadata"
RECORDED_AT = "Gotong-Recorded-At"


def stream_name(prefix: str, service: str) -> str:
    return f"{prefix}_{service}".upper().replace(".", "_").replace("-", "_")


def subject(prefix: str, service: str, event_type: str = ">") -> str:
    return f"{prefix}.{service}.{event_type}"


async def _error(error: Exception) -> None:
    log.warning("nats: %s", error)


async def connect(url: str, *, name: str = "gotong") -> Client:
    """Connect with endless reconnects; ``url`` may list several servers separated by commas."""
    return await nats.connect(
        servers=[u.strip() for u in url.split(",") if u.strip()],
        name=name,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.2,
        allow_reconnect=True,
        connect_timeout=2,
        error_cb=_error,
        disconnected_cb=None,
    )


async def ensure_stream(js: JetStreamContext, settings: Settings, service: str, *, attempts: int = 50) -> None:
    """Create or update a service's stream: keep everything, drop duplicates within the window."""
    config = StreamConfig(
        name=stream_name(settings.nats_prefix, service),
        subjects=[subject(settings.nats_prefix, service)],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        discard=DiscardPolicy.OLD,
        num_replicas=settings.stream_replicas,
        duplicate_window=float(settings.duplicate_window_seconds),
        max_age=0,
    )

    async def ensure() -> None:
        try:
            await js.stream_info(config.name or "")
            await js.update_stream(config)
        except NotFoundError:
            await js.add_stream(config)

    await when_ready(ensure, f"stream {config.name}", attempts=attempts)


async def when_ready(operation: Callable[[], Awaitable[T]], what: str, *, attempts: int = 50) -> T:
    """Run a JetStream operation, again while JetStream is not ready (the meta leader of a fresh cluster may
    not be elected yet)."""
    for attempt in range(attempts):
        try:
            return await operation()
        except (ServiceUnavailableError, BadRequestError, TimeoutError) as error:
            if attempt == attempts - 1:
                raise
            log.info("%s not ready yet: %s", what, error)
            await asyncio.sleep(0.2)
    raise AssertionError("unreachable")
