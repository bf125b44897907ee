"""Sign-in with a real OpenID Connect provider (started by the test): discovery, JWKS by key id, RS256 and
ES256, audience and expiry checked, a key rotation picked up, the JWKS refetched at most once per bound, and
organisation and role from claims or, when the token carries none, from the membership accounts records."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from services.accounts.app import service as accounts
from services.catalog.app import service as catalog
from shared.auth import Role
from shared.runtime import Runtime
from tests.conftest import Servers
from tests.integration.accounts.conftest import Client
from tests.integration.accounts.test_organisations_api import register
from tests.support.app import serve, settings_for, token
from tests.support.oidc import Issuer, running_issuer
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

CLAIMS = {"gotong_org": "cirebon-trading", "gotong_role": "aggregator"}


@pytest.fixture
async def issuer() -> AsyncIterator[Issuer]:
    async with running_issuer() as running:
        running.publish("rsa-1", "RS256")
        running.publish("ec-1", "ES256")
        yield running


@pytest.fixture
async def signed_in(
    issuer: Issuer, database_url: str, servers: Servers, nats_prefix: str
) -> AsyncIterator[tuple[Client, Runtime]]:
    settings = replace(
        settings_for(database_url, servers.nats_url, nats_prefix),
        oidc_issuer=issuer.url,
        oidc_audience="gotong-api",
        oidc_org_claim="gotong_org",
        oidc_role_claim="gotong_role",
        oidc_refresh_seconds=1,
    )
    async with serve([accounts, catalog], settings) as running:
        yield running


def bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


async def test_tokens_signed_with_published_keys_are_accepted_and_others_refused(
    issuer: Issuer, signed_in: tuple[Client, Runtime]
) -> None:
    client = signed_in[0]
    for kid in ("rsa-1", "ec-1"):
        response = await client.get("/v1/msmes", headers=bearer(issuer.token(issuer.keys[kid], **CLAIMS)))
        assert response.status_code == 200, (kid, response.text)
    wrong_audience = issuer.token(issuer.keys["rsa-1"], audience="someone-else", **CLAIMS)
    assert (await client.get("/v1/msmes", headers=bearer(wrong_audience))).status_code == 401
    expired = issuer.token(issuer.keys["rsa-1"], lifetime=-120, **CLAIMS)  # beyond the 30 s leeway
    refused = await client.get("/v1/msmes", headers=bearer(expired))
    assert refused.status_code == 401 and "expired" in refused.json()["detail"]
    unknown_role = issuer.token(issuer.keys["rsa-1"], gotong_org="x", gotong_role="emperor")
    assert (await client.get("/v1/msmes", headers=bearer(unknown_role))).status_code == 401
    assert (await client.get("/v1/msmes", headers=token(Role.BUYER))).status_code == 200  # development tokens too


async def test_a_rotated_key_is_fetched_on_first_sight_and_a_withdrawn_one_refused(
    issuer: Issuer, signed_in: tuple[Client, Runtime]
) -> None:
    client, runtime = signed_in
    old = issuer.keys["rsa-1"]
    assert (await client.get("/v1/msmes", headers=bearer(issuer.token(old, **CLAIMS)))).status_code == 200
    fresh = issuer.publish("rsa-2", "RS256")
    issuer.withdraw("rsa-1")

    async def accepted() -> bool:
        response = await client.get("/v1/msmes", headers=bearer(issuer.token(fresh, **CLAIMS)))
        return response.status_code == 200

    await eventually(accepted, timeout=10)
    withdrawn = await client.get("/v1/msmes", headers=bearer(issuer.token(old, **CLAIMS)))
    assert withdrawn.status_code == 401 and "rsa-1" in withdrawn.json()["detail"]

    verifier = runtime.tokens.oidc
    assert verifier is not None
    before = issuer.jwks_requests
    for n in range(20):  # a burst of made-up key ids costs the provider at most one request
        forged = issuer.token(replace(fresh, kid=f"made-up-{n}"), **CLAIMS)
        assert (await client.get("/v1/msmes", headers=bearer(forged))).status_code == 401
    assert issuer.jwks_requests - before <= 1


async def test_without_claims_the_membership_says_which_organisation_and_role(
    issuer: Issuer, signed_in: tuple[Client, Runtime]
) -> None:
    client = signed_in[0]
    await register(client)  # dewi administers cirebon-trading (an aggregator)
    plain = issuer.token(issuer.keys["ec-1"], sub="dewi")
    seen = await client.get("/v1/organisations/cirebon-trading", headers=bearer(plain))
    assert seen.status_code == 200, seen.text
    added = await client.post(
        "/v1/organisations/cirebon-trading/members",
        json={"subject": "budi", "role": "inspector"},
        headers=bearer(plain),
    )
    assert added.status_code == 201, added.text
    budi = issuer.token(issuer.keys["ec-1"], sub="budi")

    async def known_to_catalog() -> bool:
        return (await client.get("/v1/msmes", headers=bearer(budi))).status_code == 200

    await eventually(known_to_catalog)
    elsewhere = await client.get("/v1/msmes", headers=bearer(budi) | {"X-Gotong-Org": "osaka-interiors"})
    assert elsewhere.status_code == 401 and "not a member of osaka-interiors" in elsewhere.json()["detail"]


async def test_a_newcomer_signed_in_with_oidc_may_only_accept_an_invitation_and_is_a_member_after(
    issuer: Issuer, signed_in: tuple[Client, Runtime]
) -> None:
    client = signed_in[0]
    await register(client)
    invited = await client.post(
        "/v1/organisations/cirebon-trading/invitations",
        json={"email": "rahmat@cirebon.example", "role": "inspector"},
        headers=token(Role.AGGREGATOR, org="cirebon-trading", sub="dewi"),
    )
    assert invited.status_code == 201, invited.text
    accept = f"/v1/organisations/cirebon-trading/invitations/{invited.json()['invitation']['id']}/accept"
    rahmat = bearer(issuer.token(issuer.keys["rsa-1"], sub="rahmat"))  # no claims, no membership: a newcomer

    for method, path in [("GET", "/v1/msmes"), ("GET", "/v1/organisations"), ("GET", "/v1/admin/catalog/dead-letters")]:
        refused = await client.request(method, path, headers=rahmat)
        assert refused.status_code == 403 and "no organisation" in refused.json()["detail"], (path, refused.text)
    wrong = await client.post(accept, json={"token": "gi_not-the-token"}, headers=rahmat)
    assert wrong.status_code == 403 and "token" in wrong.json()["detail"]

    accepted = await client.post(accept, json={"token": invited.json()["token"]}, headers=rahmat)
    assert accepted.status_code == 200, accepted.text
    assert {m["subject"]: m["role"] for m in accepted.json()["members"]}["rahmat"] == "inspector"
    assert (await client.get("/v1/organisations/cirebon-trading", headers=rahmat)).status_code == 200

    async def a_member_to_catalog() -> bool:
        return (await client.get("/v1/msmes", headers=rahmat)).status_code == 200

    await eventually(a_member_to_catalog)
    claiming = issuer.token(issuer.keys["rsa-1"], sub="rahmat", gotong_org="cirebon-trading", gotong_role="newcomer")
    assert (await client.get("/v1/msmes", headers=bearer(claiming))).status_code == 401  # no token claims it
    assert (await client.get("/v1/msmes", headers=token("newcomer"))).status_code == 401
