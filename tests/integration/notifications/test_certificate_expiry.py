"""A certificate about to expire is told to the MSME's contacts on WhatsApp, 30 and then 7 days before its last
valid day (catalog's notices, fired by its due actions on the shared clock)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.integration.flow.marketplace import START, Marketplace
from tests.integration.notifications.whatsapp_flow import JEPARA_PHONE, add_contact, deliveries, messages_to
from tests.support.whatsapp import FakeWhatsApp

pytestmark = pytest.mark.integration

LAST_DAY = START.date() + timedelta(days=40)  # 2027-02-13


async def test_the_msmes_contacts_hear_of_a_certificate_30_and_7_days_before_it_lapses(
    market: Marketplace, whatsapp: FakeWhatsApp
) -> None:
    svlk = {"kind": "svlk", "number": "VLK-00123", "issuer": "PT Mutu Hutan Lestari", "valid_from": "2024-02-14",
            "valid_until": LAST_DAY.isoformat()}  # fmt: skip
    standard = await market.publish_standard()
    jepara = await market.producer("mebel-jepara", standard, name="Mebel Jati Jepara", certifications=[svlk])
    await add_contact(market, jepara, JEPARA_PHONE, language="en")

    market.clock.advance(timedelta(days=10, hours=1))  # 30 days before the last valid day
    [first] = await messages_to(whatsapp, JEPARA_PHONE, 1, "the 30-day notice")
    assert first.text == (
        "The SVLK (legal timber) certificate VLK-00123 of Mebel Jati Jepara is valid until 2027-02-13 (30 days left). "
        "Renew it before it lapses to keep receiving allocations that require it."
    )
    market.clock.advance(timedelta(days=23))  # 7 days before
    second = (await messages_to(whatsapp, JEPARA_PHONE, 2, "the 7-day notice"))[1]
    assert "(7 days left)" in second.text
    assert [d["kind"] for d in await deliveries(market, jepara)] == ["certificate_expiring", "certificate_expiring"]
