"""What else an MSME is told: a reminder before its request expires (only if still unanswered; halfway for a
request given less time, none for a very short one), its lots' verdicts with the reasons, and the shipment its
lots went with."""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg
import pytest

from tests.integration.flow.marketplace import Marketplace, Producer, eventually
from tests.integration.flow.test_shortfalls import pooled_order, two_workshops
from tests.integration.notifications.whatsapp_flow import (
    JEPARA_PHONE,
    REMBANG_PHONE,
    add_contact,
    deliveries,
    jepara_asked_for_500,
    messages_to,
)
from tests.support.whatsapp import FakeWhatsApp

pytestmark = pytest.mark.integration


async def test_a_reminder_goes_out_twelve_hours_before_expiry_only_while_the_request_is_unanswered(
    market: Marketplace, whatsapp: FakeWhatsApp
) -> None:
    standard, jepara, rembang, pool_id = await two_workshops(market)
    await add_contact(market, jepara, JEPARA_PHONE)
    await add_contact(market, rembang, REMBANG_PHONE, language="en")
    await pooled_order(market, standard, pool_id, 1000)  # more than Jepara alone can make
    await market.allocate(pool_id, msmes=2)
    await messages_to(whatsapp, JEPARA_PHONE)
    await messages_to(whatsapp, REMBANG_PHONE)
    await market.accept(rembang)
    await messages_to(whatsapp, REMBANG_PHONE, 1)

    market.clock.advance(timedelta(hours=36, minutes=1))
    (_, reminder) = await messages_to(whatsapp, JEPARA_PHONE, 2, "the reminder")
    assert reminder.kind == "template", "Jepara never wrote: outside the 24-hour window"
    assert reminder.body["template"]["name"] == "gotong_request_reminder" and len(reminder.buttons) == 3
    assert reminder.text == "Mebel Jati Jepara | 800 PCE Teak garden chair | 2027-01-06 16:00 WIB"
    market.clock.advance(timedelta(hours=1))
    await eventually(lambda: _count(whatsapp, REMBANG_PHONE, 1), timeout=3)
    assert [d["kind"] for d in await deliveries(market, jepara)] == ["request", "reminder"]


async def _reminders(pool: asyncpg.Pool) -> list[tuple[str, object]]:
    rows = await pool.fetch(
        "SELECT subject, due_at FROM notifications.due_actions WHERE kind = 'request-reminder' ORDER BY due_at"
    )
    return [(row["subject"], row["due_at"]) for row in rows]


async def test_a_request_given_less_than_twelve_hours_is_reminded_halfway_if_an_hour_is_left_then(
    market: Marketplace, whatsapp: FakeWhatsApp, pool: asyncpg.Pool
) -> None:
    _, request = await jepara_asked_for_500(market, whatsapp, expires_in=6 * 3600)
    sent_at = datetime.fromisoformat(request["expires_at"]) - timedelta(hours=6)
    assert await _reminders(pool) == [(request["id"], sent_at + timedelta(hours=3))]

    market.clock.advance(timedelta(hours=3, minutes=1))
    (_, reminder) = await messages_to(whatsapp, JEPARA_PHONE, 2, "the reminder halfway")
    assert reminder.body["template"]["name"] == "gotong_request_reminder"


async def test_a_request_given_less_than_two_hours_gets_no_reminder(
    market: Marketplace, whatsapp: FakeWhatsApp, pool: asyncpg.Pool
) -> None:
    await jepara_asked_for_500(market, whatsapp, expires_in=90 * 60)  # sent: the handler that would schedule it ran
    assert await _reminders(pool) == []


async def _count(whatsapp: FakeWhatsApp, phone: str, count: int) -> bool:
    assert len(whatsapp.messages_to(phone)) == count
    return True


async def jepara_makes_300(market: Marketplace, whatsapp: FakeWhatsApp) -> tuple[str, str, Producer]:
    standard, jepara, _, pool_id = await two_workshops(market)
    await add_contact(market, jepara, JEPARA_PHONE, language="en")
    await pooled_order(market, standard, pool_id, 300)
    await market.allocate(pool_id, msmes=2)
    await market.accept(jepara)
    await messages_to(whatsapp, JEPARA_PHONE)
    market.later()
    return standard, pool_id, jepara


async def test_lot_verdicts_are_told_to_the_msme_with_the_reasons(market: Marketplace, whatsapp: FakeWhatsApp) -> None:
    standard, pool_id, jepara = await jepara_makes_300(market, whatsapp)
    good = await market.deliver(pool_id, jepara, 150, "JPR-0301")
    await market.inspect(pool_id, good, standard)
    accepted = (await messages_to(whatsapp, JEPARA_PHONE, 2, "the acceptance"))[1]
    assert accepted.text.startswith("Lot JPR-0301 (150) of Mebel Jati Jepara was ACCEPTED at inspection")

    market.later()
    bad = await market.deliver(pool_id, jepara, 150, "JPR-0302")
    await market.inspect(pool_id, bad, standard, major=30)
    rejected = (await messages_to(whatsapp, JEPARA_PHONE, 3, "the rejection"))[2]
    assert rejected.text.startswith("Lot JPR-0302 (150) of Mebel Jati Jepara was REJECTED at inspection. Reason:")
    assert "major" in rejected.text


async def test_the_shipment_is_told_to_each_msme_whose_lots_went(market: Marketplace, whatsapp: FakeWhatsApp) -> None:
    standard, pool_id, jepara = await jepara_makes_300(market, whatsapp)
    lot = await market.deliver(pool_id, jepara, 300, "JPR-0303")
    await market.inspect(pool_id, lot, standard)
    await messages_to(whatsapp, JEPARA_PHONE, 2, "the acceptance")
    await market.pool_where(pool_id, lambda p: p["passed"] == 300, "the pool counts the passed lot")
    market.later()
    await market.ship(pool_id)
    shipped = (await messages_to(whatsapp, JEPARA_PHONE, 3, "the shipment"))[2]
    assert shipped.text.startswith("The order has shipped from Semarang: your lots JPR-0303 (300) went with it")


async def test_a_request_reaches_a_contact_added_a_moment_before_it_though_contacts_was_not_projected_yet(
    market: Marketplace, whatsapp: FakeWhatsApp
) -> None:
    """The consumer of pooling's events applies what the projector has not yet (here: stopped) before it reads
    the recipients."""
    standard, jepara, _, pool_id = await two_workshops(market)
    await _stop(market, "projector:notifications")
    body = {"name": "Pak Slamet", "role": "production lead", "phone": JEPARA_PHONE, "language": "id",
            "opted_in": True, "opt_in_evidence": "agreed on the onboarding form"}  # fmt: skip

    async def added() -> bool:
        path = f"/v1/msmes/{jepara.msme_id}/contacts"
        response = await market.client.post(path, json=body, headers=jepara.headers)
        assert response.status_code in (201, 404), response.text  # 404: notifications does not know the MSME yet
        return response.status_code == 201

    await eventually(added, what="notifications takes the contact")
    await pooled_order(market, standard, pool_id, 500)
    await market.allocate(pool_id, msmes=2)
    await messages_to(whatsapp, JEPARA_PHONE, what="the request reaches the contact added just before")
    assert [d["kind"] for d in await deliveries(market, jepara)] == ["request"]


async def _stop(market: Marketplace, task: str) -> None:
    """Cancel one of the runtime's tasks (on the app's own event loop) and wait until it has ended."""
    (running,) = [t for t in market.runtime._tasks if t.get_name() == task]
    running.get_loop().call_soon_threadsafe(running.cancel)

    async def ended() -> bool:
        return running.done()

    await eventually(ended, what=f"{task} to stop")
