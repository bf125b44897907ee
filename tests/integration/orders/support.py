"""Shared pieces of the orders service's HTTP tests: callers, a valid order body, and the steps to a quote."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeAlias

from litestar import Litestar
from litestar.testing import AsyncTestClient

from shared.auth import Role
from tests.support.app import token

BUYER = token(Role.BUYER, org="rotterdam-home", sub="ana")
OTHER_BUYER = token(Role.BUYER, org="osaka-trading", sub="kenji")
AGGREGATOR = token(Role.AGGREGATOR, org="cirebon-rattan", sub="dewi")
OTHER_AGGREGATOR = token(Role.AGGREGATOR, org="surabaya-crafts", sub="budi")
MSME = token(Role.MSME, org="weaver-12", sub="siti")
ADMIN = token(Role.ADMIN, org="gotong", sub="ops")
STANDARD = "01900000-0000-7000-8000-0000000000c1"
PUBLISHED = {STANDARD: 2}  # quality has published versions 1 and 2 of it

Client: TypeAlias = AsyncTestClient[Litestar]


def order_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "lines": [
            {
                "hs_code": "460212",
                "category": "rattan baskets",
                "description": "round rattan basket, 30 cm",
                "attributes": {"colour": "natural"},
                "standard_id": STANDARD,
                "standard_version": 2,
                "quantity": 20000,
                "unit": "PCE",
                "target_unit_price": {"amount": "3.20", "currency": "USD"},
            },
            {
                "hs_code": "46021900",
                "category": "rattan trays",
                "description": "rattan tray, 40 x 30 cm",
                "standard_id": STANDARD,
                "standard_version": 2,
                "quantity": 5000,
                "unit": "PCE",
                "target_unit_price": {"amount": "2.10", "currency": "USD"},
            },
        ],
        "incoterm": "FOB",
        "destination_country": "NL",
        "destination_port": "NLRTM",
        "loading_port": "IDTPP",
        "required_by": (date.today() + timedelta(days=120)).isoformat(),
        "notes": "natural finish, no varnish",
    }
    body.update(changes)
    return body


def quote_body(order: dict[str, Any], valid_for: timedelta = timedelta(days=7), now: datetime | None = None) -> Any:
    until = (now or datetime.now(UTC)) + valid_for
    return {
        "lines": [
            {"line_id": line["line_id"], "unit_price": {"amount": "3.05", "currency": "USD"}} for line in order["lines"]
        ],
        "lead_time_days": 45,
        "valid_until": until.isoformat(),
    }


async def register_buyer(client: Client, headers: dict[str, str] = BUYER, name: str = "Rotterdam Home B.V.") -> Any:
    body = {"name": name, "country": "NL", "contacts": [{"name": "Ana de Vries", "email": "ana@example.nl"}]}
    response = await client.post("/v1/buyers", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def new_order(client: Client, headers: dict[str, str] = BUYER, **changes: Any) -> Any:
    response = await client.post("/v1/orders", json=order_body(**changes), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def quoted_order(client: Client, **quote: Any) -> Any:
    order = await new_order(client)
    response = await client.post(f"/v1/orders/{order['id']}/quote", json=quote_body(order, **quote), headers=AGGREGATOR)
    assert response.status_code == 200, response.text
    return response.json()
