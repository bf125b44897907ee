"""Products name only standards quality has published, as the catalog learnt them from quality's events."""

from __future__ import annotations

from services.catalog.api.bodies import StandardBody
from services.catalog.read.tables import PUBLISHED_STANDARDS
from shared.errors import InvalidInput
from shared.published_standards import StandardUse
from shared.service import ServiceContext


async def refuse_unknown_standards(ctx: ServiceContext, standards: list[StandardBody] | None) -> None:
    """422 naming each ``standards[i]`` quality has not published (as far as the catalog knows yet)."""
    uses = [
        StandardUse(s.standard_id, s.version, f"standards[{i}].standard_id", f"standards[{i}].version")
        for i, s in enumerate(standards or [])
    ]
    errors = await PUBLISHED_STANDARDS.refusals(ctx.pool, uses)
    if errors:
        raise InvalidInput(errors)
