"""Who may call each route of Gotong's API, and on whose objects.

Every operation of the OpenAPI document under ``/v1`` has exactly one rule here; the matrix test fails for an
operation without a rule and for a rule without an operation, so a new route cannot ship without deciding who
may call it. Admins may call everything and are not listed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from shared.auth import Role
from tests.e2e.authz.world import World

Access = Literal["hidden", "refused", "visible"]
"""What a permitted role gets on the other organisation's object: 404, 403, or the object itself (public)."""

BUYER, AGGREGATOR, MSME, INSPECTOR = Role.BUYER, Role.AGGREGATOR, Role.MSME, Role.INSPECTOR
EVERYONE = frozenset({BUYER, AGGREGATOR, MSME, INSPECTOR})
ADMINS_ONLY = frozenset[Role]()
CONFLICT = frozenset({409})


@dataclass(frozen=True)
class Rule:
    """Who may call one operation.

    ``roles`` may call it on their own organisation's objects; a role not listed gets ``denied`` (403, or 404 where
    the route hides that such objects exist). ``foreign`` is what a listed role gets on the other organisation's
    object, per role when ``foreign_by_role`` says so. An allowed call answers 2xx, or one of ``settled`` when the
    seeded object's state refuses the command (an order confirmed already, say).
    """

    roles: frozenset[Role]
    foreign: Access = "hidden"
    foreign_by_role: Mapping[Role, Access] = field(default_factory=dict)
    denied: int = 403
    settled: frozenset[int] = frozenset()
    objects: Mapping[str, str] = field(default_factory=dict)
    """Path parameter → the world's object that fills it, where it is not the one named like the parameter."""
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    foreign_filter: Callable[[World], Mapping[str, str]] | None = None
    """For a list: query parameters naming the other world's object, whose items must stay out of the answer."""
    lists: Callable[[World], str] | None = None
    """For a list: what of the caller's own world its answer must contain."""
    absent: bool = False
    """No such object can be seeded (a dead letter): an admin's call answers 404."""
    denied_by_role: Mapping[Role, int] = field(default_factory=dict)
    """A role's own ``denied`` status where it differs (a role that passes the guard but manages no such object)."""
    open: bool = False
    """A route that takes no bearer token (a provider's signed webhook): every caller, token or not, gets the
    same answer, one of ``settled`` for the request the matrix sends."""

    def access(self, role: Role) -> Access:
        return self.foreign_by_role.get(role, self.foreign)


def _admin_routes() -> dict[tuple[str, str], Rule]:
    rules: dict[tuple[str, str], Rule] = {}
    for service in ("catalog", "notifications", "orders", "pooling", "quality"):
        rules["GET", f"/v1/admin/{service}/dead-letters"] = Rule(ADMINS_ONLY)
        replay = f"/v1/admin/{service}/dead-letters/{{letter_id}}/replay"
        rules["POST", replay] = Rule(ADMINS_ONLY, absent=True)
    return rules


CATALOG: dict[tuple[str, str], Rule] = {
    ("POST", "/v1/msmes"): Rule(frozenset({MSME, AGGREGATOR})),
    ("GET", "/v1/msmes"): Rule(EVERYONE, lists=lambda w: w.msme_id),
    ("GET", "/v1/msmes/{msme_id}"): Rule(EVERYONE, foreign="visible"),
    # profiles are public, so a stranger's edit is refused rather than hidden
    ("PATCH", "/v1/msmes/{msme_id}"): Rule(frozenset({MSME}), foreign="refused"),
    ("POST", "/v1/msmes/{msme_id}/certifications"): Rule(frozenset({MSME}), foreign="refused"),
    ("POST", "/v1/msmes/{msme_id}/products"): Rule(frozenset({MSME}), foreign="refused"),
    ("GET", "/v1/products"): Rule(EVERYONE, lists=lambda w: w.product_id),
    ("GET", "/v1/products/{product_id}"): Rule(EVERYONE, foreign="visible"),
    ("PATCH", "/v1/products/{product_id}"): Rule(frozenset({MSME}), foreign="refused"),
    ("PUT", "/v1/products/{product_id}/capacity"): Rule(frozenset({MSME}), foreign="refused"),
    ("GET", "/v1/regions"): Rule(EVERYONE),  # public reference data: Indonesia's regencies and cities
}

ORDERS: dict[tuple[str, str], Rule] = {
    ("POST", "/v1/buyers"): Rule(frozenset({BUYER}), settled=CONFLICT),
    ("GET", "/v1/buyers/{org}"): Rule(frozenset({BUYER}), denied=404),
    ("POST", "/v1/orders"): Rule(frozenset({BUYER})),
    ("GET", "/v1/orders"): Rule(
        frozenset({BUYER, AGGREGATOR}),
        foreign_filter=lambda w: {"buyer": w.orgs.buyer},
        lists=lambda w: w.order_id,
    ),
    ("GET", "/v1/orders/{order_id}"): Rule(frozenset({BUYER, AGGREGATOR})),
    ("POST", "/v1/orders/{order_id}/quote"): Rule(frozenset({AGGREGATOR}), settled=CONFLICT),
    ("POST", "/v1/orders/{order_id}/confirm"): Rule(frozenset({BUYER}), settled=CONFLICT),
    ("POST", "/v1/orders/{order_id}/cancel"): Rule(
        frozenset({BUYER}), settled=CONFLICT, objects={"order_id": "spare_order_id"}
    ),
    ("POST", "/v1/orders/{order_id}/deliver"): Rule(frozenset({BUYER}), settled=CONFLICT),
    ("GET", "/v1/orders/{order_id}/history"): Rule(frozenset({BUYER, AGGREGATOR})),
    ("GET", "/v1/orders/{order_id}/provenance"): Rule(frozenset({BUYER, AGGREGATOR})),
    ("GET", "/v1/orders/{order_id}/provenance.csv"): Rule(frozenset({BUYER, AGGREGATOR})),
    # the live feed never ends; a bad Last-Event-ID, checked after access, makes an allowed call answer 422
    ("GET", "/v1/orders/{order_id}/events"): Rule(
        frozenset({BUYER, AGGREGATOR}), settled=frozenset({422}), headers={"Last-Event-ID": "latest"}
    ),
}

POOLING: dict[tuple[str, str], Rule] = {
    ("POST", "/v1/pools"): Rule(frozenset({AGGREGATOR})),
    ("GET", "/v1/pools"): Rule(frozenset({AGGREGATOR}), lists=lambda w: w.pool_id),
    ("GET", "/v1/pools/{pool_id}"): Rule(frozenset({AGGREGATOR})),
    ("POST", "/v1/pools/{pool_id}/allocate"): Rule(frozenset({AGGREGATOR}), settled=CONFLICT),
    ("POST", "/v1/pools/{pool_id}/demand"): Rule(frozenset({AGGREGATOR}), settled=CONFLICT),
    ("POST", "/v1/pools/{pool_id}/lots"): Rule(frozenset({AGGREGATOR, MSME}), settled=CONFLICT),
    ("POST", "/v1/pools/{pool_id}/ship"): Rule(frozenset({AGGREGATOR}), settled=CONFLICT),
    ("GET", "/v1/pools/{pool_id}/proposals"): Rule(frozenset({AGGREGATOR})),
    ("GET", "/v1/pools/{pool_id}/proposals/{proposal_id}"): Rule(frozenset({AGGREGATOR})),
    ("POST", "/v1/pools/{pool_id}/proposals/{proposal_id}/approve"): Rule(frozenset({AGGREGATOR}), settled=CONFLICT),
    ("GET", "/v1/allocation-requests"): Rule(
        frozenset({MSME, AGGREGATOR}),
        foreign_filter=lambda w: {"pool_id": w.pool_id},
        lists=lambda w: w.request_id,
    ),
    ("GET", "/v1/allocation-requests/{request_id}"): Rule(frozenset({MSME, AGGREGATOR})),
    ("POST", "/v1/allocation-requests/{request_id}/accept"): Rule(frozenset({MSME}), settled=CONFLICT),
    ("POST", "/v1/allocation-requests/{request_id}/decline"): Rule(frozenset({MSME}), settled=CONFLICT),
    ("GET", "/v1/unmatched-demand"): Rule(frozenset({AGGREGATOR}), lists=lambda w: w.unmatched_line_id),
}

QUALITY: dict[tuple[str, str], Rule] = {
    ("GET", "/v1/standards"): Rule(EVERYONE, lists=lambda w: w.standard_id),
    ("POST", "/v1/standards"): Rule(frozenset({INSPECTOR})),
    ("GET", "/v1/standards/{standard_id}"): Rule(EVERYONE, foreign="visible"),
    # standards are public: only the owning organisation's inspectors change one, others are refused
    ("POST", "/v1/standards/{standard_id}/versions"): Rule(frozenset({INSPECTOR}), foreign="refused"),
    ("PUT", "/v1/standards/{standard_id}/versions/{number}"): Rule(
        frozenset({INSPECTOR}), foreign="refused", settled=CONFLICT
    ),
    ("POST", "/v1/standards/{standard_id}/versions/{number}/publish"): Rule(
        frozenset({INSPECTOR}), foreign="refused", settled=CONFLICT
    ),
    ("GET", "/v1/sampling-plans"): Rule(EVERYONE, query={"lot_size": "500", "aql": "1.0"}),
    ("POST", "/v1/inspections"): Rule(frozenset({INSPECTOR})),
    ("GET", "/v1/inspections"): Rule(
        frozenset({INSPECTOR, MSME}),
        foreign_filter=lambda w: {"msme_id": w.msme_id},
        lists=lambda w: w.inspection_id,
    ),
    # buyers and aggregators are not told that an inspection exists
    ("GET", "/v1/inspections/{inspection_id}"): Rule(frozenset({INSPECTOR, MSME}), denied=404),
    ("POST", "/v1/inspections/{inspection_id}/results"): Rule(frozenset({INSPECTOR}), settled=CONFLICT),
    # buyers, aggregators and inspectors compare any MSME's quality; an MSME's users see only their own
    ("GET", "/v1/msmes/{msme_id}/quality"): Rule(EVERYONE, foreign="visible", foreign_by_role={MSME: "hidden"}),
    # the record is readable by every inspector, so another organisation's inspector is refused, not misled
    ("POST", "/v1/msmes/{msme_id}/quality/{standard_id}/resume"): Rule(
        frozenset({INSPECTOR}), foreign="refused", settled=CONFLICT
    ),
}

# an MSME's contacts and their messages are managed by the MSME's own users (and the aggregator that registered it,
# which the seeded worlds have none of: the home aggregator passes the guard and finds no such MSME)
_CONTACTS = Rule(frozenset({MSME}), denied_by_role={AGGREGATOR: 404})
NOTIFICATIONS: dict[tuple[str, str], Rule] = {
    ("POST", "/v1/msmes/{msme_id}/contacts"): _CONTACTS,
    ("GET", "/v1/msmes/{msme_id}/contacts"): _CONTACTS,
    ("GET", "/v1/contacts/{contact_id}"): _CONTACTS,
    ("PATCH", "/v1/contacts/{contact_id}"): _CONTACTS,
    ("POST", "/v1/contacts/{contact_id}/opt-in"): _CONTACTS,
    ("POST", "/v1/contacts/{contact_id}/opt-out"): _CONTACTS,
    # the spare contact is removed by the first caller allowed to; later ones find it gone
    ("DELETE", "/v1/contacts/{contact_id}"): Rule(
        frozenset({MSME}),
        denied_by_role={AGGREGATOR: 404},
        settled=frozenset({404}),
        objects={"contact_id": "spare_contact_id"},
    ),
    ("GET", "/v1/deliveries"): Rule(frozenset({MSME, AGGREGATOR}), foreign_filter=lambda w: {"msme_id": w.msme_id}),
    ("GET", "/v1/deliveries/{delivery_id}"): _CONTACTS,
    # Meta calls the webhook with no token: the handshake needs the verify token, a notification the signature
    ("GET", "/v1/channels/whatsapp/webhook"): Rule(EVERYONE, open=True, settled=frozenset({403})),
    ("POST", "/v1/channels/whatsapp/webhook"): Rule(EVERYONE, open=True, settled=frozenset({401})),
}

# Exports. Plots are managed by the MSME's organisation (or the aggregator that registered it, which the seeded
# worlds have none of) and read by aggregators too; the seeded plot is withdrawn by the first caller allowed to.
# A pool's statement and documents are its aggregator's: the seeded pool has not shipped (409), and its rattan is
# not covered by the EUDR (200, "covered": false). ``kind`` names no object, so there is no mixed case. An
# aggregator's exporter profile is set and read by its own aggregators; the worlds are seeded without one, so a
# permitted read (made before any command) finds none.
_PLOT_READERS = Rule(frozenset({MSME, AGGREGATOR}), foreign="refused", foreign_by_role={AGGREGATOR: "visible"})
EXPORTS: dict[tuple[str, str], Rule] = {
    ("POST", "/v1/msmes/{msme_id}/plots"): Rule(frozenset({MSME}), foreign="refused"),
    ("GET", "/v1/msmes/{msme_id}/plots"): _PLOT_READERS,
    ("GET", "/v1/plots/{plot_id}"): _PLOT_READERS,
    ("POST", "/v1/plots/{plot_id}/withdraw"): Rule(frozenset({MSME}), foreign="refused", settled=CONFLICT),
    ("GET", "/v1/pools/{pool_id}/eudr"): Rule(frozenset({AGGREGATOR}), settled=CONFLICT),
    ("GET", "/v1/pools/{pool_id}/documents/{kind}"): Rule(
        frozenset({AGGREGATOR}), settled=CONFLICT, foreign_by_role={AGGREGATOR: "hidden"}
    ),
    ("PUT", "/v1/aggregators/{org}/exporter-profile"): Rule(
        frozenset({AGGREGATOR}), foreign="refused", objects={"org": "aggregator_org"}
    ),
    ("GET", "/v1/aggregators/{org}/exporter-profile"): Rule(
        frozenset({AGGREGATOR}), foreign="refused", settled=frozenset({404}), objects={"org": "aggregator_org"}
    ),
}

# Webhook subscriptions belong to one organisation: the seeded ones to the world's buyer, whose people are its
# admins. An aggregator passes the guard (it has subscriptions of its own) and finds no such subscription.
_BUYERS_WEBHOOK = Rule(frozenset({BUYER}), denied_by_role={AGGREGATOR: 404})
WEBHOOKS: dict[tuple[str, str], Rule] = {
    ("GET", "/v1/admin/webhooks/dead-letters"): Rule(ADMINS_ONLY),
    ("POST", "/v1/admin/webhooks/dead-letters/{letter_id}/replay"): Rule(ADMINS_ONLY, absent=True),
    ("GET", "/v1/webhook-event-types"): Rule(frozenset({BUYER, AGGREGATOR})),
    ("POST", "/v1/webhooks"): Rule(frozenset({BUYER, AGGREGATOR})),
    ("GET", "/v1/webhooks"): Rule(frozenset({BUYER, AGGREGATOR}), foreign_filter=lambda w: {"org": w.orgs.buyer}),
    ("GET", "/v1/webhooks/{webhook_id}"): _BUYERS_WEBHOOK,
    ("PATCH", "/v1/webhooks/{webhook_id}"): _BUYERS_WEBHOOK,
    # the spare is deleted by the first caller allowed to; later ones find it gone
    ("DELETE", "/v1/webhooks/{webhook_id}"): Rule(
        frozenset({BUYER}),
        denied_by_role={AGGREGATOR: 404},
        settled=frozenset({404}),
        objects={"webhook_id": "spare_webhook_id"},
    ),
    ("POST", "/v1/webhooks/{webhook_id}/rotate-secret"): _BUYERS_WEBHOOK,
    ("POST", "/v1/webhooks/{webhook_id}/ping"): _BUYERS_WEBHOOK,
    ("GET", "/v1/webhooks/{webhook_id}/deliveries"): _BUYERS_WEBHOOK,
    ("GET", "/v1/webhooks/{webhook_id}/deliveries/{message_id}"): _BUYERS_WEBHOOK,
    ("POST", "/v1/webhooks/{webhook_id}/deliveries/{message_id}/redeliver"): _BUYERS_WEBHOOK,
}

RULES: dict[tuple[str, str], Rule] = {
    **_admin_routes(), **CATALOG, **NOTIFICATIONS, **ORDERS, **POOLING, **QUALITY, **EXPORTS, **WEBHOOKS,
}  # fmt: skip
