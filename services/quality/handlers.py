"""Quality's subscriptions: who owns each MSME, from catalog's events, so an MSME may read its own quality."""

from __future__ import annotations

from events.base import event_names
from events.catalog import CODEC as CATALOG
from events.catalog import MsmeRegistered, MsmeUpdated
from services.quality.read.tables import msme_owners
from shared.inbox import Delivery, Subscription
from shared.mirrors import Upserts, mirror_handlers


def record_msme_owner(rows: Upserts, delivery: Delivery) -> None:
    """Keep ``msme_owners`` at the organisation the MSME's latest registration or update names (by its stream's
    version: the subscription takes them in the order they come)."""
    event = delivery.event
    match event:
        case MsmeRegistered() | MsmeUpdated():
            row = {"msme_id": event.msme_id, "org": event.org, "updated_at": delivery.recorded_at}
            rows.upsert(msme_owners, ["msme_id"], row | {"version": delivery.stream_version}, unless_newer="version")


MSME_OWNERS = Subscription(
    "msme-owners",
    "catalog",
    CATALOG,
    *mirror_handlers(record_msme_owner),
    ordered=False,
    takes=event_names(MsmeRegistered, MsmeUpdated),
)
