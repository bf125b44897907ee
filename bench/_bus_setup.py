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
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from shared import bus
from shared.config import Settings
from shared.consumer import Consumer
from shared.eventstore import EventStore, Metadata, StreamAppend
from shared.inbox import Subscription
from shared.kernel.ids import new_id
from shared.relay import event_headers
from tests.support.audit_service import record, record_many
from tests.support.ledger import CODEC, Deposited, Opened

SOURCE = "ledger"
STAGES = {  # an event's way from its append to its handling, each stage ending when the next one starts
    "append": "scheduled → append committed",
    "relay": "committed → published (relay read, JetStream ack)",
    "delivery": "published → fetched by the consumer",
    "handling": "fetched → handling committed",
    "ack": "committed → ack confirmed",
}
OPENED = Opened(owner="org-1/Koperasi Kopi Gayo")
DEPOSITED = Deposited(amount=125_000, note="advance for pooled order")
METADATA = Metadata(correlation_id=str(new_id()), actor="aggregator:user-1", command_id=str(new_id()))


@dataclass
class Bench:
    """The servers' clients and the ledger events every measurement works on."""

    pool: asyncpg.Pool
    database_url: str
    nats_url: str
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
    """A ``Consumer`` that notes when each event was fetched, when its handling was committed and when its ack
    was confirmed (by event id as the message's header has it: no parsing here)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fetched_at: dict[str, float] = {}
        self.committed_at: dict[str, float] = {}
        self.handled_at: dict[str, float] = {}
        self.target = 0
        self.reached = asyncio.Event()

    async def _fetch(self, subscription: Any) -> list[Msg]:
        messages = await super()._fetch(subscription)
        _note(self.fetched_at, messages)
        return messages

    def _acknowledge_meanwhile(self, messages: list[Msg]) -> None:
        _note(self.committed_at, messages)
        super()._acknowledge_meanwhile(messages)

    def _handled(self, msg: Msg) -> None:
        super()._handled(msg)
        _note(self.handled_at, [msg])
        if self.target and self.handled >= self.target:
            self.reached.set()

    async def handle(self, count: int) -> None:
        """Wait until ``count`` messages have been handled."""
        self.target = count
        if self.handled < count:
            self.reached.clear()
            await self.reached.wait()


def _note(times: dict[str, float], messages: list[Msg]) -> None:
    now = time.perf_counter()
    for msg in messages:
        times.setdefault((msg.headers or {})[bus.EVENT_ID], now)


def inbox_consumer(bench: Bench, prefix: str, *, at_once: bool = False) -> TimedConsumer:
    """A consumer running the audit service's handler under a new name: its own durable, inbox and progress;
    ``at_once``: its batch handler, one INSERT for a fetched batch's rows."""
    return timed_consumer(bench.pool, bench.audit, bench.js, prefix, f"bench-{bench.prefix()}", at_once=at_once)


def timed_consumer(
    pool: asyncpg.Pool, audit: EventStore, js: JetStreamContext, prefix: str, name: str, *, at_once: bool = False
) -> TimedConsumer:
    subscription = Subscription(name, SOURCE, CODEC, record, record_many if at_once else None)
    return TimedConsumer(pool, audit, js, prefix, subscription)


def bare_config(durable: str) -> ConsumerConfig:
    """The settings ``Consumer`` subscribes with, for a bare pull consumer."""
    return ConsumerConfig(
        durable_name=durable,
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL,
        ack_wait=30,
        max_deliver=-1,
        max_ack_pending=1000,
    )


@dataclass(frozen=True)
class Latency:
    """Milliseconds from each event's scheduled append to its append's commit and to its handling, and what each
    stage in between took (``STAGES``)."""

    appended_ms: list[float]
    handled_ms: list[float]
    append_waits: dict[str, int]  # what appending sessions were seen waiting on, sampled every 10 ms
    stages_ms: dict[str, list[float]]

    def stage(self, name: str, share: float) -> float:
        return percentile(self.stages_ms[name], share)

    def appended(self, share: float) -> float:
        return percentile(self.appended_ms, share)

    def handled(self, share: float) -> float:
        return percentile(self.handled_ms, share)

    def notify_lock_share(self) -> float:
        """Of the appends seen in flight, the share waiting for the lock PostgreSQL takes to commit a NOTIFY."""
        return self.append_waits.get("Lock:object", 0) / max(1, sum(self.append_waits.values()))
