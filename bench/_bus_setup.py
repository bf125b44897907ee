"""The bus benchmark's setup: its servers' clients, the ledger events it relays, a consumer that keeps time."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field, replace
from typing import Any

import asyncpg
from _servers import percentile  # first: it puts the repository (and so tests.support) on the path
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from shared import bus
from shared.config import Settings
from shared.consumer import Consumer
from shared.eventstore import EventStore, Metadata, StreamAppend
from shared.inbox import Subscription
from shared.kernel.ids import new_id
from shared.relay import event_headers
from tests.support.audit_service import audit_service
from tests.support.ledger import CODEC, Deposited, Opened

SOURCE = "ledger"
OPENED = Opened(owner="org-1/Koperasi Kopi Gayo")
DEPOSITED = Deposited(amount=125_000, note="advance for pooled order")
METADATA = Metadata(correlation_id=str(new_id()), actor="aggregator:user-1", command_id=str(new_id()))


@dataclass
class Bench:
    """The servers' clients and the ledger events every measurement works on."""

    pool: asyncpg.Pool
    database_url: str
    nats: Client
    js: JetStreamContext
    ledger: EventStore
    audit: EventStore
    events: int
    messages: list[tuple[str, bytes, dict[str, str]]] = field(default_factory=list)
    runs: int = 0

    def prefix(self) -> str:
        self.runs += 1
        return f"bench{self.runs}x{new_id().hex[-6:]}"

    async def fresh_stream(self) -> str:
        prefix = self.prefix()
        await bus.ensure_stream(self.js, replace(Settings(), nats_prefix=prefix), SOURCE)
        return prefix

    async def drop_stream(self, prefix: str, *, expected: int) -> None:
        name = bus.stream_name(prefix, SOURCE)
        stored = (await self.js.stream_info(name)).state.messages
        await self.js.delete_stream(name)
        if stored != expected:
            raise AssertionError(f"{name} holds {stored} messages, not {expected}")


async def seed(bench: Bench) -> None:
    """Append the events (streams of ten, with metadata) and keep the messages the relay will make of them.

    The streams advance together, a version of each at a time, as a service's aggregates do: most of a relay's
    batches hold later versions of their streams, whose earlier versions the relay checks it has sent."""
    streams = bench.events // 10
    for version in range(10):
        for first in range(0, streams, 50):
            await bench.ledger.append_many(
                [
                    StreamAppend(f"acct-{n}", "account", version, [DEPOSITED if version else OPENED], METADATA)
                    for n in range(first, min(first + 50, streams))
                ]
            )
    records = await bench.ledger.read_all(limit=bench.events)
    bench.messages = [(r.event_type, r.data.encode(), event_headers(r)) for r in records]


class TimedConsumer(Consumer):
    """A ``Consumer`` that notes when each event's handling was committed and acknowledged."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.handled_at: dict[str, float] = {}  # by event id as the message's header has it: no parsing here
        self.target = 0
        self.reached = asyncio.Event()

    def _handled(self, msg: Msg) -> None:
        super()._handled(msg)
        self.handled_at.setdefault((msg.headers or {})[bus.EVENT_ID], time.perf_counter())
        if self.target and self.handled >= self.target:
            self.reached.set()

    async def handle(self, count: int) -> None:
        """Wait until ``count`` messages have been handled."""
        self.target = count
        if self.handled < count:
            self.reached.clear()
            await self.reached.wait()


def inbox_consumer(bench: Bench, prefix: str) -> TimedConsumer:
    """A consumer running the audit service's handler under a new name: its own durable, inbox and progress."""
    subscription = Subscription(f"bench-{bench.prefix()}", SOURCE, CODEC, audit_service.subscriptions[0].handle)
    return TimedConsumer(bench.pool, bench.audit, bench.js, prefix, subscription)


@dataclass(frozen=True)
class Latency:
    """Milliseconds from each event's scheduled append to its append's commit and to its handling."""

    appended_ms: list[float]
    handled_ms: list[float]
    append_waits: dict[str, int]  # what appending sessions were seen waiting on, sampled every 10 ms

    def appended(self, share: float) -> float:
        return percentile(self.appended_ms, share)

    def handled(self, share: float) -> float:
        return percentile(self.handled_ms, share)

    def notify_lock_share(self) -> float:
        """Of the appends seen in flight, the share waiting for the lock PostgreSQL takes to commit a NOTIFY."""
        return self.append_waits.get("Lock:object", 0) / max(1, sum(self.append_waits.values()))
