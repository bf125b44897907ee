"""Quality's SQL reads: standards, inspections and MSMEs' quality as clients see them, and who may see what."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
import sqlalchemy as sa

from events.quality import (
    FirstArticleApproved,
    FirstArticleRejected,
    InspectionOpened,
    LotAccepted,
    LotRejected,
    MsmeQualityAssessed,
    StandardVersionSpec,
)
from services.quality.domain.inspection import LotStatus, Verdict
from services.quality.domain.scoring import SCORE_METHOD, quality_score
from services.quality.read.tables import inspections, msme_owners, msme_quality, standard_versions, standards
from services.quality.read.views import (
    InspectionView,
    MsmeQuality,
    StandardSummary,
    StandardView,
    inspection_view,
    standard_quality,
    version_view,
)
from shared.auth import Principal, Role
from shared.eventstore import Connection
from shared.kernel.errors import NotFound
from shared.pages import BY_ID, Page
from shared.service import ServiceContext
from shared.sql import fetch, fetchrow


def decode_json(raw: Any, target: Any) -> Any:
    """A JSONB column's text as ``target``."""
    return msgspec.json.decode(raw, type=target)


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


async def standards_page(
    ctx: ServiceContext, limit: int, cursor: str | None, *, name_part: str | None, owner_org: str | None
) -> Page[StandardSummary]:
    """Standards, oldest first, whose name contains ``name_part`` and that ``owner_org`` maintains."""
    after = BY_ID.decode(cursor)
    query = sa.select(standards).order_by(standards.c.id).limit(limit + 1)
    if after is not None:
        query = query.where(standards.c.id > after[0])
    if name_part is not None:
        query = query.where(standards.c.name.ilike(f"%{escape_like(name_part)}%", escape="\\"))
    if owner_org is not None:
        query = query.where(standards.c.owner_org == owner_org)
    rows = await fetch(ctx.pool, query)
    return BY_ID.page(rows, limit, _summary, lambda standard: (standard.id,))


def _summary(r: Any) -> StandardSummary:
    return StandardSummary(
        id=r["id"],
        name=r["name"],
        description=r["description"],
        owner_org=r["owner_org"],
        created_at=r["created_at"],
        latest_version=r["latest_version"],
        latest_published=r["latest_published"],
        version=r["version"],
    )


async def standard(ctx: ServiceContext, standard_id: UUID) -> StandardView:
    """A standard with all its versions, drafts included."""
    row = await fetchrow(ctx.pool, sa.select(standards).where(standards.c.id == standard_id))
    if row is None:
        raise NotFound(f"no standard {standard_id}")
    rows = await fetch(
        ctx.pool,
        sa.select(standard_versions)
        .where(standard_versions.c.standard_id == standard_id)
        .order_by(standard_versions.c.version),
    )
    versions = [
        version_view(r["version"], decode_json(r["spec"], StandardVersionSpec), r["drafted_at"], r["published_at"])
        for r in rows
    ]
    return StandardView(
        id=row["id"],
        name=row["name"],
        description=row["description"],
        owner_org=row["owner_org"],
        created_at=row["created_at"],
        latest_version=row["latest_version"],
        latest_published=row["latest_published"],
        versions=versions,
        version=row["version"],
    )


def _inspection(row: Any) -> InspectionView:
    opened = decode_json(row["opened"], InspectionOpened)
    verdict: Verdict | None = None
    if row["verdict"] is not None:
        verdict = decode_json(row["verdict"], LotAccepted | LotRejected | FirstArticleApproved | FirstArticleRejected)
    return inspection_view(opened, verdict, row["version"])


async def inspection(ctx: ServiceContext, principal: Principal, inspection_id: UUID) -> InspectionView:
    """An inspection the caller may see (404 otherwise)."""
    row = await fetchrow(ctx.pool, sa.select(inspections).where(inspections.c.id == inspection_id))
    if row is None or not await sees_inspection(ctx, principal, row["inspector_org"], row["msme_id"]):
        raise NotFound(f"no inspection {inspection_id}")
    return _inspection(row)


async def inspections_page(
    ctx: ServiceContext,
    principal: Principal,
    limit: int,
    cursor: str | None,
    *,
    msme_id: UUID | None,
    standard_id: UUID | None,
    status: LotStatus | None,
) -> Page[InspectionView]:
    """The inspections the caller may see (its organisation's, or its MSMEs'), oldest first."""
    query = sa.select(inspections).order_by(inspections.c.id).limit(limit + 1)
    if principal.role is Role.INSPECTOR:
        query = query.where(inspections.c.inspector_org == principal.org)
    elif principal.role is Role.MSME:
        owned = sa.select(msme_owners.c.msme_id).where(msme_owners.c.org == principal.org)
        query = query.where(inspections.c.msme_id.in_(owned))
    after = BY_ID.decode(cursor)
    if after is not None:
        query = query.where(inspections.c.id > after[0])
    for column, value in ((inspections.c.msme_id, msme_id), (inspections.c.standard_id, standard_id)):
        if value is not None:
            query = query.where(column == value)
    if status is not None:
        query = query.where(inspections.c.status == status)
    rows = await fetch(ctx.pool, query)
    return BY_ID.page(rows, limit, _inspection, lambda inspection: (inspection.id,))


async def quality_of_msme(
    ctx: ServiceContext, principal: Principal, msme_id: UUID, standard_id: UUID | None
) -> MsmeQuality:
    """An MSME's record per standard; an MSME's users see only their own MSMEs (404 otherwise)."""
    if principal.role is Role.MSME and await msme_owner(ctx, msme_id) != principal.org:
        raise NotFound(f"no MSME {msme_id}")
    query = sa.select(msme_quality).where(msme_quality.c.msme_id == msme_id).order_by(msme_quality.c.standard_id)
    if standard_id is not None:
        query = query.where(msme_quality.c.standard_id == standard_id)
    rows = await fetch(ctx.pool, query)
    records = [standard_quality(decode_json(r["assessment"], MsmeQualityAssessed), r["version"]) for r in rows]
    return MsmeQuality(
        msme_id=msme_id,
        standards=records,
        score_without_history=quality_score(0, 0, []),
        score_method=SCORE_METHOD,
    )
