"""Quality's subscriptions: who owns each MSME, from catalog's events, so an MSME may read its own quality."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert

from events.catalog import CODEC as CATALOG
from events.catalog import MsmeRegistered, MsmeUpdated
from services.quality.read.tables import msme_owners
from shared.inbox import Delivery, HandlerContext, Subscription
from shared.sql import execute


async def record_msme_owner(context: HandlerContext, delivery: Delivery) -> None:
    """Keep ``msme_owners`` at the organisation the MSME's latest registration or update names."""
    event = delivery.event
    if not isinstance(event, MsmeRegistered | MsmeUpdated):
        return
    statement = insert(msme_owners).values(msme_id=event.msme_id, org=event.org, updated_at=delivery.recorded_at)
    await execute(
        context.connection,
        statement.on_conflict_do_update(
            index_elements=["msme_id"],
            set_={"org": event.org, "updated_at": delivery.recorded_at},
            where=msme_owners.c.updated_at <= delivery.recorded_at,
        ),
    )


MSME_OWNERS = Subscription("msme-owners", source="catalog", codec=CATALOG, handle=record_msme_owner)
