"""NATS restarting while a consumer holds messages: what it holds is acknowledged once NATS is back, and every
event is handled well within the 30 s ack wait that a message lost by the consumer would sit out."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import asyncpg
import pytest

from shared import bus
from shared.consumer import ACK_WAIT_SECONDS
from shared.eventstore import StreamAppend
from shared.inbox import Delivery, HandlerContext, Subscription
from shared.runtime import Runtime
from tests.conftest import Servers
from tests.support.app import settings_for
from tests.support.audit_service import audit_service, record
from tests.support.ledger import CODEC, Opened
from tests.support.ledger_service import ledger_service
from tests.support.waiting import eventually

pytestmark = pytest.mark.reliability

WELL_WITHIN = 12.0  # seconds after NATS is back by which everything must be handled and acknowledged
OUTAGE_SECONDS = 3.0  # long enough for the acks of the held messages to time out


async def test_messages_held_across_a_nats_restart_are_acknowledged_and_handled_promptly(
    servers: Servers, database_url: str, nats_prefix: str, pool: asyncpg.Pool
) -> None:
    if servers.nats is None:
        pytest.skip("needs the embedded NATS server to stop and start it")
    assert WELL_WITHIN < ACK_WAIT_SECONDS / 2
    nats_server = servers.nats
    entered, release = asyncio.Event(), asyncio.Event()

    async def held_at_first(context: HandlerContext, delivery: Delivery) -> None:
        if delivery.stream_id == "first" and not release.is_set():
            entered.set()
            await release.wait()  # NATS goes away while the consumer holds this batch
        await record(context, delivery)

    subscription = Subscription("ledger-audit", source="ledger", codec=CODEC, handle=held_at_first)
    audit = replace(audit_service, subscriptions=[subscription])
    settings = settings_for(database_url, servers.nats_url, nats_prefix)
    runtime = Runtime(settings, [ledger_service, audit])
    await runtime.start()
    client = None
    try:
        store = runtime.contexts["ledger"].store
        streams = ["first", *(f"s{n}" for n in range(20))]
        await store.append_many([StreamAppend(stream, "account", 0, [Opened(owner="x")]) for stream in streams])
        await asyncio.wait_for(entered.wait(), 30)
        await eventually(lambda: _published(runtime, 21), timeout=30)
        await asyncio.to_thread(nats_server.stop)  # type: ignore[attr-defined]
        try:
            release.set()
            for n in range(5):  # the service goes on taking commands meanwhile
                await store.append(f"during{n}", "account", 0, [Opened(owner="x")])
            await asyncio.sleep(OUTAGE_SECONDS)
        finally:
            await asyncio.to_thread(nats_server.start)  # type: ignore[attr-defined]
        back = asyncio.get_running_loop().time()
        client = await bus.connect(settings.nats_url or "")
        js = client.jetstream()
        consumer = next(c for c in runtime.consumers if c.subscription is subscription)  # not the mirrors'

        async def handled_and_acknowledged() -> bool:
            seen = await pool.fetchval("SELECT count(DISTINCT event_id) FROM audit.seen")
            info = await js.consumer_info(bus.stream_name(nats_prefix, "ledger"), consumer.durable)
            return bool(seen == 26 and info.num_ack_pending == 0 and info.num_pending == 0)

        await eventually(handled_and_acknowledged, timeout=WELL_WITHIN)
        assert asyncio.get_running_loop().time() - back < WELL_WITHIN
        assert await pool.fetchval("SELECT count(*) FROM audit.seen") == 26, "each event handled once"
    finally:
        if client is not None:
            await client.close()
        await runtime.stop()


async def _published(runtime: Runtime, n: int) -> bool:
    return runtime.relays["ledger"].published >= n
