"""When the receiver fails: what the log keeps of each try, disabling after a streak (with a notice to the
organisation's other subscriptions), re-enabling; and URLs no webhook may go to, refused when subscribed and
again when sent."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg
import pytest

from services.webhooks import outbox
from shared.config import Settings
from shared.kernel.clock import ManualClock
from tests.integration.orders.support import register_buyer
from tests.integration.webhooks.conftest import ANA, Client, Hooks, serving, subscribe
from tests.integration.webhooks.test_delivery import arrived, deliveries, place
from tests.support.receiver import FAILURE_BODY, running_receiver
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


async def test_a_subscription_failing_in_a_row_is_disabled_with_a_notice_and_enabled_again(settings: Settings) -> None:
    strict = replace(settings, webhooks_disable_after_failures=3)
    async with running_receiver() as failing, running_receiver() as healthy, serving(strict, failing) as hooks:
        client = hooks.client
        await register_buyer(client)
        broken = await subscribe(client, ANA, failing.url(), ["order.requested"])
        watcher = await subscribe(client, ANA, healthy.url(), ["webhook.disabled"])
        failing.secrets, healthy.secrets = [broken["secret"]], [watcher["secret"]]
        failing.answer = 503
        broken_id = broken["subscription"]["id"]
        orders = [await place(client) for _ in range(3)]  # three orders: three messages tried side by side
        path = f"/v1/webhooks/{broken_id}"

        async def disabled() -> bool:
            return (await client.get(path, headers=ANA)).json()["enabled"] is False

        await eventually(disabled)
        view = (await client.get(path, headers=ANA)).json()
        assert "3 tries in a row failed" in view["disabled"]["reason"]
        assert view["health"]["consecutive_failures"] >= 3 and view["health"]["last_error"] == "answered 503"

        await arrived(healthy, 1)
        notice = healthy.accepted()[0]
        assert notice.type == "webhook.disabled" and notice.verified_by
        assert notice.data["subscription_id"] == broken_id and notice.data["consecutive_failures"] >= 3
        assert notice.data["url"] == failing.url() and notice.data["type"] == "webhooks.WebhookDisabled.v1"

        waiting = await deliveries(client, broken_id, ANA)
        assert len(waiting) == 3 and {d["status"] for d in waiting} == {"pending"}
        for delivery in waiting:
            assert delivery["response_status"] == 503 and delivery["error"] is None
            assert delivery["response_body"] == FAILURE_BODY[:1024] and len(delivery["response_body"]) == 1024
            assert delivery["latency_ms"] >= 0 and delivery["next_attempt_at"] is not None
        assert strict.database_url is not None
        connection = await asyncpg.connect(strict.database_url)
        claiming = connection.transaction()  # rolled back: the claim only shows what would be tried
        await claiming.start()
        try:  # however late it is, nothing of a disabled subscription is due
            due = await outbox.claim(connection, hooks.runtime.clock.now() + timedelta(hours=2), 50)
        finally:
            await claiming.rollback()
            await connection.close()
        assert [c for c in due if str(c.subscription_id) == broken_id] == [], "a disabled subscription was tried"

        failing.answer = 204
        enabled = await client.patch(path, json={"enabled": True}, headers=ANA)
        assert enabled.status_code == 200 and enabled.json()["enabled"] is True
        assert enabled.json()["disabled"] is None and enabled.json()["health"]["consecutive_failures"] == 0
        await arrived(failing, 3)
        assert {r.data["order_id"] for r in failing.accepted()} == {o["id"] for o in orders}
        assert all(r.verified_by for r in failing.received)


async def test_a_receiver_that_does_not_answer_is_given_up_on_after_ten_seconds(hooks: Hooks) -> None:
    client, receiver = hooks.client, hooks.receiver
    await register_buyer(client)
    made = await subscribe(client, ANA, receiver.url(), ["order.requested"])
    receiver.hang_seconds = 30
    await place(client)

    async def timed_out() -> bool:
        found = await deliveries(client, made["subscription"]["id"], ANA)
        return bool(found) and found[0]["error"] is not None

    await eventually(timed_out, timeout=40)
    tried = (await deliveries(client, made["subscription"]["id"], ANA))[0]
    assert tried["error"] == "no answer within 10 s" and 10_000 <= tried["latency_ms"] < 12_000
    assert tried["status"] == "pending" and tried["response_status"] is None


REFUSED = {
    "https://127.0.0.1/hooks": "127.0.0.1 is a loopback address",
    "https://10.20.30.40:8443/hooks": "10.20.30.40 is a private address",
    "https://169.254.169.254/latest/meta-data/": "cloud metadata",
    "https://[::1]/hooks": "::1 is a loopback address",
    "https://localhost/hooks": "localhost resolves to",
    "https://2130706433/hooks": "resolves to 127.0.0.1",  # 127.0.0.1 written as one number
    "https://[::ffff:10.0.0.1]/hooks": "carries 10.0.0.1, a private address",
    "https://192.168.1.20/hooks": "private address",
    "https://224.0.0.1/hooks": "multicast address",
    "https://0.0.0.0/hooks": "unspecified address",
    "http://203.0.113.10/hooks": "must be https://",
    "https://ops:secret@127.0.0.1/hooks": "credentials",
    "ftp://files.example/hooks": "must be an https:// URL",
    "https://no-such-host.invalid/hooks": "does not resolve",
}


async def test_urls_reaching_private_loopback_or_link_local_addresses_are_refused(settings: Settings) -> None:
    guarded = replace(settings, webhooks_allow_private=(), webhooks_allow_http=False)
    async with running_receiver() as receiver, serving(guarded, receiver) as hooks:
        for url, reason in REFUSED.items():
            response = await hooks.client.post(
                "/v1/webhooks", json={"url": url, "event_types": ["order.confirmed"]}, headers=ANA
            )
            assert response.status_code == 422, (url, response.text)
            assert response.headers["content-type"].startswith("application/problem+json")
            [error] = response.json()["errors"]
            assert error["field"] == "url" and reason in error["message"], (url, error)
        assert (await hooks.client.get("/v1/webhooks", headers=ANA)).json()["items"] == []


async def test_an_address_allowed_when_subscribed_is_refused_when_sent_if_no_longer_allowed(settings: Settings) -> None:
    async with running_receiver() as receiver:
        async with serving(settings, receiver) as hooks:
            await register_buyer(hooks.client)
            made = await subscribe(hooks.client, ANA, receiver.url(), ["order.requested"])
        guarded = replace(settings, webhooks_allow_private=())
        async with serving(guarded, receiver, fresh=False) as hooks:
            await place(hooks.client)

            async def refused() -> bool:
                found = await deliveries(hooks.client, made["subscription"]["id"], ANA)
                return bool(found) and found[0]["error"] is not None

            await eventually(refused)
            tried = (await deliveries(hooks.client, made["subscription"]["id"], ANA))[0]
            assert tried["error"] == "refused: 127.0.0.1 is a loopback address; webhooks go to public addresses only"
            assert receiver.received == []
            assert settings.database_url is not None
            connection = await asyncpg.connect(settings.database_url)
            try:
                tries = await connection.fetchval("SELECT count(*) FROM webhooks.attempts")
            finally:
                await connection.close()
            assert tries >= 1


async def _until_queued(client: Client, subscription_id: str) -> list[str]:
    async def queued() -> bool:
        return bool(await deliveries(client, subscription_id, ANA))

    await eventually(queued)
    return [d["id"] for d in await deliveries(client, subscription_id, ANA)]


async def test_a_message_failing_for_a_day_is_given_up_and_the_subscription_disabled(settings: Settings) -> None:
    clock = ManualClock(datetime.now(UTC) + timedelta(minutes=1))  # ahead of the database, whose clock stamps events
    async with running_receiver() as receiver, serving(settings, receiver, clock=clock) as hooks:
        client = hooks.client
        await register_buyer(client)
        made = await subscribe(client, ANA, receiver.url(), ["order.requested"])
        subscription_id = made["subscription"]["id"]
        receiver.answer = 503
        await place(client)
        [queued] = await _until_queued(client, subscription_id)
        path = f"/v1/webhooks/{subscription_id}/deliveries/{queued}"
        tries = 0
        while True:
            tries += 1

            async def recorded(count: int = tries) -> bool:  # the try and its outcome, before the clock moves on
                return len((await client.get(path, headers=ANA)).json()["tries"]) >= count

            await eventually(recorded)
            delivery = (await client.get(path, headers=ANA)).json()
            if delivery["status"] != "pending" or tries > 40:
                break
            clock.advance(timedelta(hours=1))  # past the next try, however long the wait has grown
        assert delivery["status"] == "failed" and delivery["next_attempt_at"] is None
        assert 25 <= delivery["attempts"] <= 35 and len(receiver.received) == delivery["attempts"]
        assert {t["response_status"] for t in delivery["tries"]} == {503}

        async def disabled() -> bool:
            return (await client.get(f"/v1/webhooks/{subscription_id}", headers=ANA)).json()["enabled"] is False

        await eventually(disabled)
        view = (await client.get(f"/v1/webhooks/{subscription_id}", headers=ANA)).json()
        assert view["disabled"]["reason"].startswith("every try failed for 2")


async def test_a_subscription_deleted_while_a_message_is_on_its_way_leaves_nothing_behind(hooks: Hooks) -> None:
    client, receiver = hooks.client, hooks.receiver
    await register_buyer(client)
    doomed = await subscribe(client, ANA, receiver.url("/doomed"), ["order.requested"])
    receiver.hang_seconds = 2
    await place(client)

    async def on_its_way() -> bool:
        return len(receiver.received) == 1

    await eventually(on_its_way)
    assert (await client.delete(f"/v1/webhooks/{doomed['subscription']['id']}", headers=ANA)).status_code == 204
    receiver.hang_seconds = 0
    witness = await subscribe(client, ANA, receiver.url("/witness"), ["order.requested"])
    await place(client)  # its message goes in a later round than the doomed one, once that round is recorded
    await arrived(receiver, 2)
    assert [r.path for r in receiver.received] == ["/doomed", "/witness"]
    assert hooks.settings.database_url is not None
    connection = await asyncpg.connect(hooks.settings.database_url)
    try:
        kept = await connection.fetch(
            "SELECT 'health' AS what FROM webhooks.health WHERE subscription_id = $1 UNION ALL "
            "SELECT 'delivery' FROM webhooks.deliveries WHERE subscription_id = $1 UNION ALL "
            "SELECT 'secret' FROM webhooks.secrets WHERE subscription_id = $1 UNION ALL "
            "SELECT 'try' FROM webhooks.attempts a WHERE NOT EXISTS "
            "(SELECT 1 FROM webhooks.deliveries d WHERE d.seq = a.delivery_seq)",
            UUID(doomed["subscription"]["id"]),
        )
    finally:
        await connection.close()
    assert kept == [] and witness["subscription"]["id"] != doomed["subscription"]["id"]
