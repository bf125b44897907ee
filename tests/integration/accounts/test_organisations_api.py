"""Organisations, members and invitations over HTTP: operators register, organisation admins manage, and the
last admin always stays."""

from __future__ import annotations

from typing import Any

import pytest

from shared.auth import Role
from tests.integration.accounts.conftest import Client
from tests.support.app import token

pytestmark = pytest.mark.integration

OPERATOR = token(Role.ADMIN, org="gotong", sub="root")
DEWI = token(Role.AGGREGATOR, org="cirebon-trading", sub="dewi")  # the trading house's first admin
BUDI = token(Role.AGGREGATOR, org="cirebon-trading", sub="budi")
STRANGER = token(Role.BUYER, org="osaka-interiors", sub="kenji")


async def register(client: Client, org: str = "cirebon-trading", admin: str = "dewi") -> dict[str, Any]:
    body = {"org": org, "kind": "aggregator", "name": "Cirebon Trading", "first_admin": {"subject": admin}}
    response = await client.post("/v1/organisations", json=body, headers=OPERATOR)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_an_operator_registers_an_organisation_whose_first_admin_then_manages_it(client: Client) -> None:
    created = await register(client)
    assert created["members"] == [
        {
            "subject": "dewi",
            "role": "aggregator",
            "org_admin": True,
            "email": None,
            "since": created["members"][0]["since"],
        }
    ]
    again = await client.post(
        "/v1/organisations",
        json={"org": "cirebon-trading", "kind": "buyer", "name": "x", "first_admin": {"subject": "y"}},
        headers=OPERATOR,
    )
    assert again.status_code == 409
    by_member = await client.post(
        "/v1/organisations",
        json={"org": "mine", "kind": "buyer", "name": "x", "first_admin": {"subject": "y"}},
        headers=DEWI,
    )
    assert by_member.status_code == 403

    added = await client.post(
        "/v1/organisations/cirebon-trading/members",
        json={"subject": "budi", "role": "inspector", "email": "budi@cirebon.example"},
        headers=DEWI,
    )
    assert added.status_code == 201, added.text
    assert {m["subject"]: m["role"] for m in added.json()["members"]} == {"budi": "inspector", "dewi": "aggregator"}
    by_non_admin = await client.post(
        "/v1/organisations/cirebon-trading/members", json={"subject": "eko", "role": "aggregator"}, headers=BUDI
    )
    assert by_non_admin.status_code == 403
    wrong_role = await client.post(
        "/v1/organisations/cirebon-trading/members", json={"subject": "eko", "role": "buyer"}, headers=DEWI
    )
    assert wrong_role.status_code == 422 and wrong_role.json()["errors"][0]["field"] == "role"

    seen = await client.get("/v1/organisations/cirebon-trading", headers=BUDI)
    assert seen.status_code == 200 and len(seen.json()["members"]) == 2
    assert (await client.get("/v1/organisations/cirebon-trading", headers=STRANGER)).status_code == 404
    mine = await client.get("/v1/organisations", headers=BUDI)
    assert [o["org"] for o in mine.json()["items"]] == ["cirebon-trading"]
    assert (await client.get("/v1/organisations", headers=STRANGER)).json()["items"] == []


async def test_the_last_admin_can_be_neither_removed_nor_demoted(client: Client) -> None:
    await register(client)
    demote = await client.put(
        "/v1/organisations/cirebon-trading/members/dewi", json={"role": "aggregator", "org_admin": False}, headers=DEWI
    )
    assert demote.status_code == 409 and demote.json()["type"].endswith("last-admin")
    remove = await client.post("/v1/organisations/cirebon-trading/members/dewi/remove", headers=DEWI)
    assert remove.status_code == 409
    await client.post(
        "/v1/organisations/cirebon-trading/members",
        json={"subject": "budi", "role": "aggregator", "org_admin": True},
        headers=DEWI,
    )
    left = await client.post("/v1/organisations/cirebon-trading/members/dewi/remove", headers=DEWI)
    assert left.status_code == 200, left.text
    assert [m["subject"] for m in left.json()["members"]] == ["budi"]
    gone = await client.post("/v1/organisations/cirebon-trading/members/nobody/remove", headers=BUDI)
    assert gone.status_code == 404


async def test_an_invitation_is_accepted_once_with_its_token_by_its_subject(client: Client) -> None:
    await register(client)
    sent = await client.post(
        "/v1/organisations/cirebon-trading/invitations",
        json={"subject": "sari", "role": "inspector", "expires_in_hours": 1},
        headers=DEWI,
    )
    assert sent.status_code == 201, sent.text
    invitation, secret = sent.json()["invitation"], sent.json()["token"]
    accept = f"/v1/organisations/cirebon-trading/invitations/{invitation['id']}/accept"
    sari = token(Role.BUYER, org="elsewhere", sub="sari")
    assert (await client.post(accept, json={"token": "gi_wrong"}, headers=sari)).status_code == 403
    assert (await client.post(accept, json={"token": secret}, headers=STRANGER)).status_code == 403
    accepted = await client.post(accept, json={"token": secret}, headers=sari)
    assert accepted.status_code == 200, accepted.text
    assert {"subject": "sari", "role": "inspector"}.items() <= next(
        m for m in accepted.json()["members"] if m["subject"] == "sari"
    ).items()
    twice = await client.post(accept, json={"token": secret}, headers=sari)
    assert twice.status_code == 409 and twice.json()["type"].endswith("invitation-accepted")
    listed = await client.get("/v1/organisations/cirebon-trading/invitations", headers=DEWI)
    assert [i["status"] for i in listed.json()["items"]] == ["accepted"]
    assert "token" not in listed.text and secret not in listed.text


async def test_a_withdrawn_invitation_cannot_be_accepted(client: Client) -> None:
    await register(client)
    sent = await client.post(
        "/v1/organisations/cirebon-trading/invitations",
        json={"email": "eko@cirebon.example", "role": "aggregator"},
        headers=DEWI,
    )
    invitation_id, secret = sent.json()["invitation"]["id"], sent.json()["token"]
    withdrawn = await client.post(
        f"/v1/organisations/cirebon-trading/invitations/{invitation_id}/withdraw", headers=DEWI
    )
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    eko = token(Role.AGGREGATOR, org="none-yet", sub="eko")
    late = await client.post(
        f"/v1/organisations/cirebon-trading/invitations/{invitation_id}/accept", json={"token": secret}, headers=eko
    )
    assert late.status_code == 409


async def test_bad_input_names_the_field(client: Client) -> None:
    response = await client.post(
        "/v1/organisations",
        json={"org": "Not Valid!", "kind": "guild", "name": "", "first_admin": {"subject": "x"}},
        headers=OPERATOR,
    )
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} >= {"org", "kind", "name"}
