"""Rate limits of `gotong serve` over real HTTP: per caller, per client address, and on failed authentication.

Each test speaks from client addresses of its own (X-Forwarded-For, which uvicorn believes from loopback, as
it would from a proxy allowed by FORWARDED_ALLOW_IPS), so the tests never spend each other's limits.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from shared.auth import Role
from tests.e2e.processes import GotongProcess, start, stop, wait_ready
from tests.support.app import token

pytestmark = pytest.mark.e2e
PER_CALLER = 5
"""Requests a caller may make at once; one more every 4 s (5 per 20 s)."""
PER_ADDRESS = 12
FAILED_AUTH = 4


@pytest.fixture(scope="module")
async def catalog(module_env: dict[str, str], logs: Path) -> AsyncIterator[GotongProcess]:
    limits = {
        "GOTONG_RATE_LIMIT": "",  # unset: `gotong serve` limits by default
        "GOTONG_RATE_LIMIT_PER_PRINCIPAL": f"{PER_CALLER}/20s",
        "GOTONG_RATE_LIMIT_PER_ADDRESS": f"{PER_ADDRESS}/min",
        "GOTONG_RATE_LIMIT_FAILED_AUTH": f"{FAILED_AUTH}/min",
    }
    served = start("rate-limited-catalog", ["serve", "catalog"], module_env | limits, logs)
    try:
        await wait_ready([served])
        yield served
    finally:
        stop([served])


@pytest.fixture
async def client(catalog: GotongProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=catalog.url, timeout=30) as client:
        yield client


def caller(name: str, address: str) -> dict[str, str]:
    return token(Role.AGGREGATOR, org=f"org-{name}", sub=name) | {"X-Forwarded-For": address}


async def products(client: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
    return await client.get("/v1/products", params={"limit": 1}, headers=headers)


def assert_limited(answer: httpx.Response, mentions: str) -> int:
    """A 429 problem naming what was exceeded; returns its Retry-After."""
    assert answer.status_code == 429, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["type"] == "/problems/rate-limited" and problem["status"] == 429
    assert mentions in problem["detail"]
    retry_after = int(answer.headers["Retry-After"])
    assert retry_after >= 1 and f"retry after {retry_after} s" in problem["detail"]
    return retry_after


async def test_a_caller_over_its_limit_gets_429_until_retry_after_and_others_are_not_affected(
    client: httpx.AsyncClient,
) -> None:
    wayan, sari = caller("wayan", "198.51.100.1"), caller("sari", "198.51.100.1")
    started = time.monotonic()
    for _ in range(PER_CALLER):
        assert (await products(client, wayan)).status_code == 200
    refused = await products(client, wayan)
    assert time.monotonic() - started < 4, "too slow to spend the limit before it refills"
    retry_after = assert_limited(refused, "wayan")
    assert retry_after <= 4

    assert (await products(client, sari)).status_code == 200

    await asyncio.sleep(retry_after)
    assert (await products(client, wayan)).status_code == 200


async def test_an_address_over_its_limit_gets_429_whoever_calls_from_it(client: httpx.AsyncClient) -> None:
    address = "198.51.100.2"
    started = time.monotonic()
    for number in range(PER_ADDRESS):
        assert (await products(client, caller(f"weaver-{number}", address))).status_code == 200
    refused = await products(client, caller("one-more", address))
    assert time.monotonic() - started < 5, "too slow to spend the limit before it refills"
    assert_limited(refused, address)

    assert (await products(client, caller("one-more", "198.51.100.3"))).status_code == 200


async def test_bad_tokens_from_one_address_get_429_after_the_limit_even_with_a_good_one_next(
    client: httpx.AsyncClient,
) -> None:
    guesser = "203.0.113.7"
    for guess in range(FAILED_AUTH):
        answer = await products(client, {"Authorization": f"Bearer guess-{guess}", "X-Forwarded-For": guesser})
        assert answer.status_code == 401, answer.text
    refused = await products(client, {"Authorization": "Bearer guess-again", "X-Forwarded-For": guesser})
    assert_limited(refused, "failed authentications")
    assert_limited(await products(client, caller("lucky", guesser)), "failed authentications")

    assert (await products(client, caller("lucky", "203.0.113.8"))).status_code == 200
    for path in ("/health", "/ready", "/schema/openapi.json"):
        assert (await client.get(path, headers={"X-Forwarded-For": guesser})).status_code == 200, path
