"""The HTTP runtime over a real app: auth, problem details, idempotency, If-Match, read-your-writes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import jwt
import pytest
from litestar.testing import AsyncTestClient

from shared.auth import Role, TokenAuthority
from tests.conftest import Servers
from tests.support.app import SECRET, serve, settings_for, token
from tests.support.ledger_service import ledger_service

pytestmark = pytest.mark.integration


@pytest.fixture
async def client(database_url: str, servers: Servers, nats_prefix: str) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    async with serve([ledger_service], settings_for(database_url, servers.nats_url, nats_prefix)) as (client, _):
        yield client


BUYER = token(Role.BUYER, org="rotterdam-home")


async def test_a_command_returns_version_and_position_and_the_read_model_catches_up(client: AsyncTestClient) -> None:  # type: ignore[type-arg]
    created = await client.post("/v1/accounts", json={"owner": "ana"}, headers=BUYER)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["version"] == 1 and body["position"] > 0
    read = await client.get(f"/v1/accounts/{body['id']}?wait_for_position={body['position']}", headers=BUYER)
    assert read.status_code == 200
    assert read.json()["owner"] == "rotterdam-home/ana"


async def test_health_and_docs_are_open_but_every_v1_route_needs_a_valid_token(client: AsyncTestClient) -> None:  # type: ignore[type-arg]
    assert (await client.get("/health")).status_code == 200
    schema = await client.get("/schema/openapi.json")
    assert schema.status_code == 200 and "/v1/accounts" in schema.json()["paths"]
    docs = await client.get("/schema/")
    assert docs.status_code == 200 and "/schema/assets/swagger-ui-bundle.js" in docs.text
    assert (await client.get("/schema/assets/swagger-ui-bundle.js")).status_code == 200

    missing = await client.get("/v1/accounts/x")
    assert missing.status_code == 401
    assert missing.headers["content-type"].startswith("application/problem+json")
    unsigned = jwt.encode({"sub": "x", "role": "admin", "org": "o", "iss": "gotong"}, None, algorithm="none")
    assert (await client.get("/v1/accounts/x", headers={"Authorization": f"Bearer {unsigned}"})).status_code == 401
    forged = TokenAuthority(secret="another-secret-of-sufficient-length!").issue(sub="x", role=Role.ADMIN, org="o")
    assert (await client.get("/v1/accounts/x", headers={"Authorization": f"Bearer {forged}"})).status_code == 401
    expired = TokenAuthority(secret=SECRET).issue(sub="x", role=Role.ADMIN, org="o", lifetime=timedelta(seconds=-5))
    response = await client.get("/v1/accounts/x", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401 and "expired" in response.json()["detail"]


async def test_bad_input_gets_problem_details_naming_every_field(client: AsyncTestClient) -> None:  # type: ignore[type-arg]
    response = await client.post("/v1/accounts", json={"owner": "", "colour": "red"}, headers=BUYER)
    assert response.status_code == 422
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert {e["field"] for e in problem["errors"]} == {"owner", "colour"}
    assert problem["status"] == 422 and problem["type"] and problem["title"]

    malformed = await client.post(
        "/v1/accounts", content=b'{"owner": "a"', headers={**BUYER, "Content-Type": "application/json"}
    )
    assert malformed.status_code == 400
    duplicate = await client.post(
        "/v1/accounts", content=b'{"owner": "a", "owner": "b"}', headers={**BUYER, "Content-Type": "application/json"}
    )
    assert duplicate.status_code == 400 and "duplicate" in duplicate.json()["detail"]
    wrong_type = await client.post("/v1/accounts", content=b"owner=a", headers={**BUYER, "Content-Type": "text/plain"})
    assert wrong_type.status_code == 415
    too_large = await client.post("/v1/accounts", json={"owner": "a" * 2_000_000}, headers=BUYER)
    assert too_large.status_code == 413
    assert (await client.get("/v1/nowhere", headers=BUYER)).status_code == 404
    assert (await client.delete("/v1/accounts/x", headers=BUYER)).status_code == 405
    admin = token(Role.ADMIN, org="gotong-ops")
    huge = await client.post("/v1/admin/ledger/dead-letters/18446744073709551617/replay", headers=admin)
    assert huge.status_code in (404, 422), "an id beyond bigint is bad input, not a server error"
    assert (await client.post("/v1/admin/ledger/dead-letters/7/replay", headers=admin)).status_code == 404
    assert (await client.post("/v1/admin/ledger/dead-letters/7/replay", headers=BUYER)).status_code == 403
    beyond_bigint = await client.get("/v1/accounts/x?wait_for_position=99999999999999999999", headers=BUYER)
    assert beyond_bigint.status_code == 422
    bad_query = await client.get("/v1/accounts/x?wait_for_position=-3", headers=BUYER)
    assert bad_query.status_code == 422 and bad_query.json()["errors"][0]["field"] == "wait_for_position"
    for response in (malformed, duplicate, wrong_type, too_large, bad_query):
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "Traceback" not in response.text


async def test_a_repeated_idempotency_key_returns_the_first_result_and_appends_nothing(
    client: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    headers = {**BUYER, "Idempotency-Key": "open-ana-1"}
    first = await client.post("/v1/accounts", json={"owner": "ana"}, headers=headers)
    again = await client.post("/v1/accounts", json={"owner": "ana"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    reused = await client.post("/v1/accounts", json={"owner": "bob"}, headers=headers)
    assert reused.status_code == 422 and reused.json()["errors"][0]["field"] == "Idempotency-Key"


async def test_if_match_makes_a_command_conditional_and_other_orgs_see_nothing(client: AsyncTestClient) -> None:  # type: ignore[type-arg]
    created = (await client.post("/v1/accounts", json={"owner": "ana"}, headers=BUYER)).json()
    url = f"/v1/accounts/{created['id']}"
    await client.get(f"{url}?wait_for_position={created['position']}", headers=BUYER)
    for version in ("abc", "-1", "1.0"):
        odd = await client.post(f"{url}/deposits", json={"amount": 5}, headers={**BUYER, "If-Match": version})
        assert odd.status_code == 422 and odd.json()["errors"][0]["field"] == "If-Match", odd.text
    stale = await client.post(f"{url}/deposits", json={"amount": 5}, headers={**BUYER, "If-Match": "7"})
    assert stale.status_code == 412
    fresh = await client.post(f"{url}/deposits", json={"amount": 5}, headers={**BUYER, "If-Match": "1"})
    assert fresh.status_code == 201 and fresh.json()["balance"] == 5
    stranger = token(Role.BUYER, org="osaka-trading")
    assert (await client.get(url, headers=stranger)).status_code == 404
    assert (await client.post(f"{url}/deposits", json={"amount": 5}, headers=stranger)).status_code == 404
