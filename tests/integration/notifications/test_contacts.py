"""Contacts through the API: who manages an MSME's contacts, and what a contact must be."""

from __future__ import annotations

import pytest

from shared.auth import Role
from tests.integration.flow.marketplace import Marketplace, eventually
from tests.support.app import token
from tests.support.whatsapp import FakeWhatsApp

pytestmark = pytest.mark.integration
ONBOARDER = token(Role.AGGREGATOR, org="cirebon-coop", sub="wati")


async def test_the_onboarding_aggregator_manages_contacts_and_strangers_find_nothing(
    market: Marketplace, whatsapp: FakeWhatsApp
) -> None:
    registered = await market.post(
        "/v1/msmes",
        {"name": "Rotan Ibu Siti", "nib": "9120000000099", "province": "Jawa Barat", "city": "Cirebon",
         "contact": {"name": "Bu Siti", "phone": "+62 231 555 0101"}, "size_class": "micro", "org": "siti-rotan"},
        ONBOARDER,
    )  # fmt: skip
    path = f"/v1/msmes/{registered['id']}/contacts"
    body = {"name": "Bu Siti", "role": "owner", "phone": "+62 812-3456-7890", "language": "id"}

    async def added() -> dict[str, object] | None:
        response = await market.client.post(path, json=body, headers=ONBOARDER)
        return response.json() if response.status_code == 201 else None

    contact = await eventually(added, what="the onboarding aggregator adds a contact")
    assert (contact["phone"], contact["opted_in"], contact["version"]) == ("+6281234567890", False, 1)
    again = await market.client.post(path, json=body, headers=ONBOARDER)
    assert again.status_code == 409 and "already" in again.json()["detail"]

    other_aggregator = token(Role.AGGREGATOR, org="semarang-trading")
    assert (await market.client.get(path, headers=other_aggregator)).status_code == 404
    assert (await market.client.get(f"/v1/contacts/{contact['id']}", headers=other_aggregator)).status_code == 404
    assert (await market.client.get(path, headers=token(Role.BUYER))).status_code == 403
    owner = token(Role.MSME, org="siti-rotan")
    listed = await market.get(f"{path}?wait_for_position={contact['position']}", owner)  # the contacts table
    assert [c["id"] for c in listed["items"]] == [contact["id"]]

    consent = await market.post(f"/v1/contacts/{contact['id']}/opt-in", {"evidence": "signed form"}, owner, 200)
    assert consent["opted_in"] is True and consent["version"] == 2
    stale = await market.client.patch(
        f"/v1/contacts/{contact['id']}", json={"language": "en"}, headers=owner | {"If-Match": "1"}
    )
    assert stale.status_code == 412
    removed = await market.call("DELETE", f"/v1/contacts/{contact['id']}", owner)
    assert removed["version"] == 3
    assert (await market.client.get(f"/v1/contacts/{contact['id']}", headers=owner)).status_code == 404


async def test_bad_contacts_are_refused_naming_each_field(market: Marketplace, whatsapp: FakeWhatsApp) -> None:
    some_msme = "01900000-0000-7000-8000-000000000001"
    body = {"name": "", "role": "owner", "phone": "0812", "language": "jv", "opted_in": True, "extra": 1}
    refused = await market.client.post(f"/v1/msmes/{some_msme}/contacts", json=body, headers=ONBOARDER)
    assert refused.status_code == 422
    fields = {e["field"] for e in refused.json()["errors"]}
    assert {"name", "phone", "language", "extra"} <= fields
