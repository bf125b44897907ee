"""Every list route of every service reads its cursor the same way: one that this service did not issue, whatever
its form, is a 422 naming ``cursor``; one of the right shape pages on."""

from __future__ import annotations

import base64
import json

import pytest

from tests.integration.flow.marketplace import AGGREGATOR, BUYER, INSPECTOR, Marketplace

pytestmark = pytest.mark.integration


def _cursor(keys: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(keys).encode()).decode().rstrip("=")


BAD_CURSORS = {
    "a string that is no id": _cursor(["x"]),  # WyJ4Il0
    "a number": _cursor([1]),
    "a null": _cursor([None]),
    "too many keys": _cursor(["0190a5b0-0000-7000-8000-000000000000", "x"]),
    "not a list": _cursor({"id": "x"}),
    "truncated": _cursor(["0190a5b0-0000-7000-8000-000000000000"])[:-7],
    "not base64": "%%%not-base64%%%",
    "not JSON": base64.urlsafe_b64encode(b"\xff\xfe").decode(),
}
ROUTES = {
    "/v1/products": BUYER,
    "/v1/regions": BUYER,
    "/v1/orders": BUYER,
    "/v1/pools": AGGREGATOR,
    "/v1/pools/{pool_id}/proposals": AGGREGATOR,
    "/v1/allocation-requests": AGGREGATOR,
    "/v1/unmatched-demand": AGGREGATOR,
    "/v1/standards": BUYER,
    "/v1/inspections": INSPECTOR,
}


@pytest.mark.parametrize("route", ROUTES)
async def test_a_cursor_this_service_did_not_issue_is_a_422_naming_cursor(market: Marketplace, route: str) -> None:
    path = route
    if "{pool_id}" in route:
        path = route.format(pool_id=await market.open_pool(await market.publish_standard()))
    for what, cursor in BAD_CURSORS.items():
        response = await market.client.get(path, params={"cursor": cursor}, headers=ROUTES[route])
        assert response.status_code == 422, f"{route} with {what}: {response.status_code} {response.text}"
        assert response.headers["content-type"].startswith("application/problem+json"), what
        assert [e["field"] for e in response.json()["errors"]] == ["cursor"], f"{route} with {what}: {response.text}"
    after_all = _cursor(["99.99"] if route == "/v1/regions" else ["ffffffff-ffff-7fff-bfff-ffffffffffff"])
    last = await market.client.get(path, params={"cursor": after_all}, headers=ROUTES[route])
    assert last.status_code == 200, last.text
    assert last.json() == {"items": [], "next_cursor": None}
