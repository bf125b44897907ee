"""Two marketplaces seeded through the public API: world A, where every caller of the matrix works, and world B,
whose objects are foreign to them. Each world has a buyer, an aggregator, an MSME and an inspector organisation,
and between them every kind of object a route can name: standard, MSME, product with capacity, buyer, orders,
a pool with its proposal, an accepted allocation request, a judged first-article inspection, the MSME's
WhatsApp contacts and the message the request queued for them, and the buyer's webhook subscriptions with
a message in their log."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from litestar import Litestar
from litestar.testing import AsyncTestClient

from shared.auth import Role
from tests.support.app import token

Client = AsyncTestClient[Litestar]
T = TypeVar("T")

ADMIN_ORG = "gotong-ops"


@dataclass(frozen=True)
class Orgs:
    """The organisation of each role in one world."""

    buyer: str
    aggregator: str
    msme: str
    inspector: str

    def of(self, role: Role) -> str:
        return ADMIN_ORG if role is Role.ADMIN else str(getattr(self, role.value))


@dataclass(frozen=True)
class World:
    """The ids (and a few telling strings) of one world's objects."""

    name: str
    orgs: Orgs
    standard_id: str
    msme_id: str
    contact_email: str
    product_id: str
    capacity: dict[str, int]
    order_id: str
    order_line_id: str
    unmatched_line_id: str
    spare_order_id: str
    order_notes: str
    pool_id: str
    pool_name: str
    proposal_id: str
    request_id: str
    inspection_id: str
    contact_id: str
    spare_contact_id: str
    contact_phone: str
    delivery_id: str
    plot_id: str
    webhook_id: str
    spare_webhook_id: str
    message_id: str
    webhook_url: str

    @staticmethod
    def caller(orgs: Orgs, name: str, role: Role) -> dict[str, str]:
        """The Authorization header of a user with ``role`` in world ``name``."""
        return token(role, org=orgs.of(role), sub=f"{role.value}-{name}")

    def headers(self, role: Role) -> dict[str, str]:
        return World.caller(self.orgs, self.name, role)

    def path_values(self) -> dict[str, str]:
        """What fills each path parameter of a route with this world's object."""
        return {
            "msme_id": self.msme_id,
            "product_id": self.product_id,
            "standard_id": self.standard_id,
            "number": "1",
            "org": self.orgs.buyer,
            "aggregator_org": self.orgs.aggregator,
            "order_id": self.order_id,
            "spare_order_id": self.spare_order_id,
            "pool_id": self.pool_id,
            "proposal_id": self.proposal_id,
            "request_id": self.request_id,
            "inspection_id": self.inspection_id,
            "letter_id": "1",
            "contact_id": self.contact_id,
            "spare_contact_id": self.spare_contact_id,
            "delivery_id": self.delivery_id,
            "plot_id": self.plot_id,
            "kind": "peb",  # a trade document's kind, not an object: the same in both worlds
            "webhook_id": self.webhook_id,
            "spare_webhook_id": self.spare_webhook_id,
            "message_id": self.message_id,
        }

    def secrets(self) -> dict[str, frozenset[Role]]:
        """Strings of this world no other organisation may read, each with the roles that still may."""
        private = frozenset[Role]()
        return {
            self.orgs.buyer: private,
            self.orgs.aggregator: private,
            self.contact_email: frozenset({Role.AGGREGATOR}),  # contacts are for the owner and aggregators
            self.order_id: private,
            self.order_line_id: private,
            self.unmatched_line_id: private,
            self.spare_order_id: private,
            self.order_notes: private,
            self.pool_id: private,
            self.pool_name: private,
            self.proposal_id: private,
            self.request_id: private,
            self.inspection_id: private,
            self.contact_phone: private,
            self.delivery_id: private,
            self.webhook_id: private,
            self.spare_webhook_id: private,
            self.message_id: private,
            self.webhook_url: private,
        }


async def eventually(check: Callable[[], Awaitable[T | None]], what: str, timeout: float = 30.0) -> T:
    """Poll ``check`` until it returns something truthy, failing with ``what`` after ``timeout`` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s")
        await asyncio.sleep(0.1)


async def call(
    client: Client, method: str, path: str, headers: dict[str, str], body: Any = None, expect: int = 201
) -> dict[str, Any]:
    response = await client.request(method, path, json=body, headers=headers)
    assert response.status_code == expect, f"{method} {path}: {response.status_code} {response.text}"
    result: dict[str, Any] = response.json()
    return result
