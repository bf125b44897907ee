"""The body the matrix sends with each command: valid, so only who asks decides the answer.

A body names the caller's own things (its MSME, its standard) and, where the command is about the object in the
path, that object's parts (the order's lines). ``serial`` keeps what must be unique (NIB, SKU, lot code) unique.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.auth import Role
from tests.e2e.authz.bodies import (
    buyer_body,
    first_article_body,
    msme_body,
    order_body,
    plot_body,
    pool_body,
    product_body,
    quote_body,
    version_body,
)
from tests.e2e.authz.webhooks import webhook_body
from tests.e2e.authz.world import World

UNLISTED_HS = "460290"  # what the matrix lists, orders and pools never meets the seeded pools and products
POOLED_ELSEWHERE_HS = "460120"


@dataclass(frozen=True)
class Target:
    """Whose object the path names (``world``), and who asks (``home`` is the caller's world)."""

    world: World
    home: World
    role: Role | None
    serial: int

    @property
    def org(self) -> str:
        return self.home.orgs.of(self.role or Role.MSME)


def _today(days: int = 0) -> str:
    return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()


Payload = Callable[[Target], dict[str, Any]]

PAYLOADS: dict[tuple[str, str], Payload] = {
    ("POST", "/v1/msmes"): lambda t: msme_body(
        f"Rotan baru {t.serial}", f"3273{t.serial:09d}", f"owner{t.serial}@example.org", t.org
    ),
    ("PATCH", "/v1/msmes/{msme_id}"): lambda t: {"size_class": "small"},
    ("POST", "/v1/msmes/{msme_id}/certifications"): lambda t: {
        "kind": "halal",
        "number": f"ID{t.serial:010d}",
        "issuer": "BPJPH",
        "valid_from": _today(),
        "valid_until": _today(365),
    },
    ("POST", "/v1/msmes/{msme_id}/products"): lambda t: product_body(f"MTX-{t.serial}", UNLISTED_HS, None),
    ("PATCH", "/v1/products/{product_id}"): lambda t: {"description": "Hand-woven natural rattan"},
    ("PUT", "/v1/products/{product_id}/capacity"): lambda t: {"months": t.world.capacity},
    ("POST", "/v1/buyers"): lambda t: buyer_body(f"{t.org} buying office", f"buying@{t.org}.example"),
    ("POST", "/v1/orders"): lambda t: order_body(t.home.standard_id, "sample order", (UNLISTED_HS,)),
    ("POST", "/v1/orders/{order_id}/quote"): lambda t: quote_body((t.world.order_line_id, t.world.unmatched_line_id)),
    ("POST", "/v1/orders/{order_id}/cancel"): lambda t: {"reason": "the season's range changed"},
    ("POST", "/v1/pools"): lambda t: pool_body(f"Pool {t.serial}", t.home.standard_id, POOLED_ELSEWHERE_HS),
    ("POST", "/v1/pools/{pool_id}/allocate"): lambda t: {"allow_probation": True, "time_limit_s": 5},
    ("POST", "/v1/pools/{pool_id}/demand"): lambda t: {"order_id": t.world.order_id, "line_id": t.world.order_line_id},
    # the caller's own MSME delivering into the pool in the path
    ("POST", "/v1/pools/{pool_id}/lots"): lambda t: {
        "msme_id": t.home.msme_id,
        "quantity": 1,
        "lot_code": f"LOT-{t.serial}",
        "delivered_on": _today(),
    },
    ("POST", "/v1/pools/{pool_id}/ship"): lambda t: {"partial": False},
    ("POST", "/v1/msmes/{msme_id}/plots"): lambda t: plot_body(f"Kebun {t.serial}"),
    ("POST", "/v1/plots/{plot_id}/withdraw"): lambda t: {"reason": "the land was sold"},
    ("PUT", "/v1/aggregators/{org}/exporter-profile"): lambda t: {
        "name": f"PT {t.org}",
        "nib": "8120301234567",
        "npwp": "012345678503000",
        "address": "Jl. Pemuda 150, Semarang",
    },
    ("POST", "/v1/pools/{pool_id}/proposals/{proposal_id}/approve"): lambda t: {},
    ("POST", "/v1/allocation-requests/{request_id}/accept"): lambda t: {},
    ("POST", "/v1/allocation-requests/{request_id}/decline"): lambda t: {"reason": "the loom is being repaired"},
    ("POST", "/v1/standards"): lambda t: version_body() | {"name": f"Standard {t.serial}", "publish": False},
    ("POST", "/v1/standards/{standard_id}/versions"): lambda t: version_body() | {"publish": False},
    ("PUT", "/v1/standards/{standard_id}/versions/{number}"): lambda t: version_body(),
    ("POST", "/v1/inspections"): lambda t: first_article_body(t.home.msme_id, t.home.product_id, t.home.standard_id),
    ("POST", "/v1/inspections/{inspection_id}/results"): lambda t: {"defects": {"major": 0}},
    ("POST", "/v1/msmes/{msme_id}/quality/{standard_id}/resume"): lambda t: {
        "corrective_action": "weavers retrained; moisture checked before packing"
    },
    ("POST", "/v1/msmes/{msme_id}/contacts"): lambda t: {
        "name": "Bu Siti",
        "role": "owner",
        "phone": f"+62813{t.serial:08d}",
        "opted_in": True,
        "opt_in_evidence": "agreed at the cooperative's meeting",
    },
    ("PATCH", "/v1/contacts/{contact_id}"): lambda t: {"role": "production lead"},
    ("POST", "/v1/contacts/{contact_id}/opt-in"): lambda t: {"evidence": "agreed again by phone"},
    ("POST", "/v1/webhooks"): lambda t: (
        webhook_body(t.org) | ({"org": t.home.orgs.buyer, "audience": "buyer"} if t.role is Role.ADMIN else {})
    ),
    ("PATCH", "/v1/webhooks/{webhook_id}"): lambda t: {"description": f"ERP {t.serial}"},
}


def payload(method: str, path: str, target: Target) -> dict[str, Any] | None:
    """The body for this operation, or None when it takes none."""
    build = PAYLOADS.get((method, path))
    return build(target) if build else None
