"""API keys over HTTP: made by an organisation's admin and shown once, checked by every service against its
mirror, held to their scopes and their organisation's role, refused once revoked or expired."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from tests.integration.accounts.conftest import Client
from tests.integration.accounts.test_organisations_api import DEWI, register
from tests.integration.catalog.conftest import msme_body
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

KEYS = "/v1/organisations/cirebon-trading/api-keys"


async def make_key(client: Client, scopes: list[str], **extra: Any) -> dict[str, Any]:
    response = await client.post(KEYS, json={"name": "ERP sync", "scopes": scopes, **extra}, headers=DEWI)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def read(database_url: str, query: str, *args: Any) -> Any:
    connection = await asyncpg.connect(database_url)
    try:
        return await connection.fetchval(query, *args)
    finally:
        await connection.close()


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def until_catalog_knows(client: Client, key: str) -> None:
    async def known() -> bool:
        return (await client.get("/v1/msmes", headers=bearer(key))).status_code == 200

    await eventually(known)


async def test_a_key_is_shown_once_and_works_in_another_service_within_its_scopes(client: Client) -> None:
    await register(client)
    made = await make_key(client, ["catalog:read"])
    key, key_id = made["key"], made["api_key"]["id"]
    assert key.startswith(f"gk_{key_id}_") and made["api_key"]["scopes"] == ["catalog:read"]
    listed = await client.get(KEYS, headers=DEWI)
    assert [k["id"] for k in listed.json()["items"]] == [key_id] and key.split("_", 2)[2] not in listed.text

    await until_catalog_knows(client, key)
    assert (await client.get("/v1/msmes", headers={"X-API-Key": key})).status_code == 200
    write = await client.post("/v1/msmes", json=msme_body(), headers=bearer(key))
    assert write.status_code == 403 and "catalog:write" in write.json()["detail"]
    people_only = await client.get("/v1/organisations", headers=bearer(key))
    assert people_only.status_code == 403 and "people only" in people_only.json()["detail"]
    forged = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    assert (await client.get("/v1/msmes", headers=bearer(forged))).status_code == 401
    assert (await client.get("/v1/msmes", headers={"X-API-Key": "gk_nonsense"})).status_code == 401


async def test_a_key_never_holds_a_scope_its_organisations_role_cannot_use(client: Client) -> None:
    await register(client)
    response = await client.post(
        KEYS, json={"name": "too much", "scopes": ["pools:write", "requests:answer"]}, headers=DEWI
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["scopes[1]"]
    unknown = await client.post(KEYS, json={"name": "x", "scopes": ["everything"]}, headers=DEWI)
    assert unknown.status_code == 422


async def test_commands_made_with_a_key_record_the_key_as_their_actor(client: Client, database_url: str) -> None:
    await register(client)
    made = await make_key(client, ["catalog:read", "catalog:write"])
    await until_catalog_knows(client, made["key"])
    created = await client.post("/v1/msmes", json=msme_body(org="cirebon-trading"), headers=bearer(made["key"]))
    assert created.status_code == 201, created.text
    metadata = json.loads(
        await read(
            database_url,
            "SELECT metadata::text FROM catalog.events WHERE stream_id = $1 ORDER BY stream_version LIMIT 1",
            f"msme-{created.json()['id']}",
        )
    )
    assert metadata["actor"] == f"key:{made['api_key']['id']}" and metadata["org"] == "cirebon-trading"


async def test_a_revoked_key_is_refused_at_once_by_accounts_and_within_a_second_by_another_service(
    client: Client,
) -> None:
    await register(client)
    lags: list[float] = []
    for _ in range(5):
        made = await make_key(client, ["catalog:read"])
        key = made["key"]
        await until_catalog_knows(client, key)
        assert (await client.get("/v1/organisations", headers=bearer(key))).status_code == 403  # known, people only
        revoked = await client.post(f"{KEYS}/{made['api_key']['id']}/revoke", headers=DEWI)
        answered = time.perf_counter()
        assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
        at_accounts = await client.get("/v1/organisations", headers=bearer(key))
        assert at_accounts.status_code == 401 and "revoked" in at_accounts.json()["detail"]

        async def refused(key: str = key) -> bool:
            return (await client.get("/v1/msmes", headers=bearer(key))).status_code == 401

        await eventually(refused, timeout=10)
        lags.append(time.perf_counter() - answered)
    print(f"revocation reached catalog after {', '.join(f'{lag * 1000:.0f}' for lag in lags)} ms")
    assert max(lags) < 1.0, lags


async def test_an_expired_key_is_refused(client: Client) -> None:
    await register(client)
    soon = datetime.now(UTC) + timedelta(seconds=2)
    made = await make_key(client, ["catalog:read"], expires_at=soon.isoformat())
    await until_catalog_knows(client, made["key"])

    async def expired() -> bool:
        response = await client.get("/v1/msmes", headers=bearer(made["key"]))
        return response.status_code == 401 and "expired" in response.json()["detail"]

    await eventually(expired)
    listed = await client.get(KEYS, headers=DEWI)
    assert listed.json()["items"][0]["status"] == "expired"
    naive = await client.post(
        KEYS, json={"name": "x", "scopes": ["catalog:read"], "expires_at": "2030-01-01T00:00:00"}, headers=DEWI
    )
    assert naive.status_code == 422 and naive.json()["errors"][0]["field"] == "expires_at"
    past = await client.post(
        KEYS, json={"name": "x", "scopes": ["catalog:read"], "expires_at": "2020-01-01T00:00:00Z"}, headers=DEWI
    )
    assert past.status_code == 422


async def test_a_key_records_its_last_use_at_most_once_a_minute(client: Client, database_url: str) -> None:
    await register(client)
    made = await make_key(client, ["catalog:read"])
    await until_catalog_knows(client, made["key"])
    last_use = "SELECT last_used_at FROM catalog.identity_api_keys WHERE key_id = $1"
    first = await read(database_url, last_use, made["api_key"]["id"])
    assert first is not None
    for _ in range(3):
        assert (await client.get("/v1/msmes", headers=bearer(made["key"]))).status_code == 200
    assert await read(database_url, last_use, made["api_key"]["id"]) == first


async def test_the_list_of_keys_shows_their_latest_use_in_any_service(client: Client, database_url: str) -> None:
    await register(client)
    made = await make_key(client, ["catalog:read"])
    assert made["api_key"]["last_used_at"] is None
    before = datetime.now(UTC)
    await until_catalog_knows(client, made["key"])  # used in catalog, never in accounts

    async def shown() -> bool:
        listed = (await client.get(KEYS, headers=DEWI)).json()["items"]
        used = listed[0]["last_used_at"]
        return used is not None and datetime.fromisoformat(used) >= before - timedelta(seconds=1)

    await eventually(shown)
    in_accounts_mirror = "SELECT last_used_at FROM accounts.identity_api_keys WHERE key_id = $1"
    assert await read(database_url, in_accounts_mirror, made["api_key"]["id"]) is None
