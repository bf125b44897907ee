"""Exactly once per trigger and recipient, with two replicas of notifications on one database and pooling's
event delivered twice over NATS: one message reaches the MSME, one answer is recorded."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

import asyncpg
import pytest

from services.notifications.app import service as notifications
from shared import bus
from shared.kernel.ids import new_id
from tests.conftest import Servers
from tests.integration.flow.marketplace import Marketplace, eventually
from tests.integration.flow.test_shortfalls import pooled_order, two_workshops
from tests.integration.notifications.whatsapp_flow import JEPARA_PHONE, add_contact, messages_to, post_webhook
from tests.support.app import serve, settings_for
from tests.support.whatsapp import FakeWhatsApp, template_button

pytestmark = pytest.mark.integration


@asynccontextmanager
async def second_replica(market: Marketplace, database_url: str, servers: Servers, prefix: str) -> AsyncIterator[None]:
    """Another notifications process on the same database and NATS prefix, sharing its durable consumers."""
    settings = replace(settings_for(database_url, servers.nats_url, prefix), pool_size=10)
    async with serve([notifications], settings, clock=market.clock):
        yield


async def redeliver(servers: Servers, prefix: str, event_type: str) -> None:
    """Publish pooling's last ``event_type`` again, as a new NATS message: JetStream's duplicate window does not
    stop it, so every consumer receives the same event a second time."""
    client = await bus.connect(servers.nats_url)
    try:
        js = client.jetstream()
        stream = bus.stream_name(prefix, "pooling")
        original = await js.get_last_msg(stream, bus.subject(prefix, "pooling", event_type))
        headers = dict(original.headers or {}) | {bus.MSG_ID: str(new_id())}
        await js.publish(original.subject, original.data or b"", headers=headers, stream=stream)
    finally:
        await client.close()


async def consumers_done(servers: Servers, prefix: str) -> bool:
    client = await bus.connect(servers.nats_url)
    try:
        info = await client.jetstream().consumer_info(bus.stream_name(prefix, "pooling"), "notifications-pooling")
        return info.num_pending == 0 and info.num_ack_pending == 0
    finally:
        await client.close()


async def test_two_replicas_and_a_redelivered_event_send_one_message_and_record_one_answer(
    market: Marketplace,
    whatsapp: FakeWhatsApp,
    database_url: str,
    servers: Servers,
    nats_prefix: str,
    pool: asyncpg.Pool,
) -> None:
    async with second_replica(market, database_url, servers, nats_prefix):
        standard, jepara, _, pool_id = await two_workshops(market)
        await add_contact(market, jepara, JEPARA_PHONE)
        await pooled_order(market, standard, pool_id, 500)
        await market.allocate(pool_id, msmes=2)
        request = await market.request_for(jepara)
        await messages_to(whatsapp, JEPARA_PHONE)

        await redeliver(servers, nats_prefix, "AllocationRequested")

        async def handled() -> bool:
            return await consumers_done(servers, nats_prefix)

        await eventually(handled, what="the redelivered event is consumed")
        await post_webhook(market, template_button(JEPARA_PHONE, f"accept:{request['id']}"))
        await market.request_for(jepara, status="accepted")
        await messages_to(whatsapp, JEPARA_PHONE, 2)
        await redeliver(servers, nats_prefix, "AnswerSettled")
        await eventually(handled, what="the redelivered settlement is consumed")

        async def quiet() -> bool:
            sent = await pool.fetchval("SELECT count(*) FROM notifications.deliveries WHERE status <> 'sent'")
            return sent == 0

        await eventually(quiet)
        market.later()
        assert [m.kind for m in whatsapp.messages_to(JEPARA_PHONE)] == ["template", "text"]
        assert await pool.fetchval("SELECT count(*) FROM notifications.deliveries") == 2
        assert await pool.fetchval("SELECT count(*) FROM notifications.answers") == 1
        assert await pool.fetchval("SELECT count(*) FROM pooling.events WHERE event_type = 'AnswerSettled'") == 1
