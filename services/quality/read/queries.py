"""What quality's read routes share: LIKE patterns, who owns an MSME, who sees an inspection."""

from __future__ import annotations

from uuid import UUID

import sqlalchemy as sa

from services.quality.domain.inspection import LotStatus
from services.quality.read.tables import msme_owners
from shared.auth import Principal, Role
from shared.eventstore import Connection
from shared.service import ServiceContext
from shared.sql import fetchrow


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def msme_owner(ctx: ServiceContext, msme_id: UUID) -> str | None:
    """The organisation that owns an MSME, as catalog's events told us."""
    row = await fetchrow(ctx.pool, sa.select(msme_owners.c.org).where(msme_owners.c.msme_id == msme_id))
    return None if row is None else str(row["org"])


async def sees_inspection(ctx: ServiceContext, principal: Principal, inspector_org: str, msme_id: UUID) -> bool:
    """Admins see every inspection; inspectors those of their organisation; an MSME's users those of the MSME."""
    if principal.is_admin:
        return True
    if principal.role is Role.INSPECTOR:
        return principal.org == inspector_org
    if principal.role is Role.MSME:
        return await msme_owner(ctx, msme_id) == principal.org
    return False


async def may_resume(
    connection: Connection, schema: str, principal: Principal, owner_org: str, msme_id: UUID, standard_id: UUID
) -> bool:
    """Admins, inspectors of the organisation that owns the standard, and inspectors of an organisation that has
    inspected the MSME under it may resume its discontinued inspection (read in the caller's transaction)."""
    if principal.is_admin or principal.org == owner_org:
        return True
    inspected = await connection.fetchval(
        f"""SELECT EXISTS (SELECT 1 FROM {schema}.events
                           WHERE event_type = 'InspectionOpened' AND data->>'inspector_org' = $1
                             AND data->>'msme_id' = $2 AND data->>'standard_id' = $3)""",
        principal.org,
        str(msme_id),
        str(standard_id),
    )
    return bool(inspected)


async def lot_inspections(connection: Connection, schema: str, lot_id: UUID) -> tuple[tuple[str, LotStatus], ...]:
    """Who inspected a lot before and how each inspection ended, oldest first, read from the event store in
    the caller's transaction (which holds the lot's lock, so no other inspection of the lot can slip in)."""
    rows = await connection.fetch(
        f"""SELECT o.data->>'inspector_org' AS org,
                   (SELECT v.event_type FROM {schema}.events v
                    WHERE v.stream_id = o.stream_id AND v.event_type IN ('LotAccepted', 'LotRejected')
                    LIMIT 1) AS verdict
            FROM {schema}.events o
            WHERE o.event_type = 'InspectionOpened' AND o.data->>'lot_id' = $1
            ORDER BY o.position""",
        str(lot_id),
    )
    statuses: dict[str | None, LotStatus] = {None: "open", "LotAccepted": "accepted", "LotRejected": "rejected"}
    return tuple((row["org"], statuses[row["verdict"]]) for row in rows)
