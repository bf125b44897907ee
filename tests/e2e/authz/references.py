"""Requests on the caller's own objects (or lists) that name another organisation's object in the body or a
filter: each must be refused, or answered without anything of the other organisation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shared.auth import Role
from tests.e2e.authz.bodies import buyer_body, msme_body
from tests.e2e.authz.cases import Call
from tests.e2e.authz.world import World

Worlds = Callable[[World, World], Any]
"""A function of the caller's world and the foreign one."""


@dataclass(frozen=True)
class ForeignReference:
    role: Role
    method: str
    url: Worlds
    body: Worlds | None
    status: int

    def call(self, home: World, foreign: World) -> Call:
        body = self.body(home, foreign) if self.body else None
        return Call(self.method, self.url(home, foreign), home.headers(self.role), body)


def _lot(home: World, foreign: World) -> dict[str, Any]:
    return {"msme_id": foreign.msme_id, "quantity": 1, "lot_code": "LOT-X", "delivered_on": "2026-01-05"}


def _buyer(home: World, foreign: World) -> dict[str, Any]:
    return buyer_body("Osaka Interiors", f"buying@{foreign.orgs.buyer}.example") | {"org": foreign.orgs.buyer}


FOREIGN_REFERENCES = {
    "an aggregator adding another aggregator's order line to its pool": ForeignReference(
        Role.AGGREGATOR,
        "POST",
        lambda home, foreign: f"/v1/pools/{home.pool_id}/demand",
        lambda home, foreign: {"order_id": foreign.order_id, "line_id": foreign.order_line_id},
        404,
    ),
    "an MSME user delivering another organisation's MSME's lot": ForeignReference(
        Role.MSME, "POST", lambda home, foreign: f"/v1/pools/{home.pool_id}/lots", _lot, 404
    ),
    "a buyer registering another buyer organisation": ForeignReference(
        Role.BUYER, "POST", lambda home, foreign: "/v1/buyers", _buyer, 403
    ),
    "an MSME user registering an MSME for another organisation": ForeignReference(
        Role.MSME,
        "POST",
        lambda home, foreign: "/v1/msmes",
        lambda home, foreign: msme_body("Rotan Jepara", "3201000009999", "x@example.org", foreign.orgs.msme),
        403,
    ),
    "an MSME user listing the requests of another organisation's MSME": ForeignReference(
        Role.MSME, "GET", lambda home, foreign: f"/v1/allocation-requests?msme_id={foreign.msme_id}", None, 200
    ),
    "an aggregator listing the orders of another aggregator's buyer": ForeignReference(
        Role.AGGREGATOR, "GET", lambda home, foreign: f"/v1/orders?buyer={foreign.orgs.buyer}", None, 200
    ),
    "an inspector listing another organisation's inspections of an MSME": ForeignReference(
        Role.INSPECTOR, "GET", lambda home, foreign: f"/v1/inspections?msme_id={foreign.msme_id}", None, 200
    ),
}
