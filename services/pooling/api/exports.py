"""Routes of what a shipped pool hands over at the border."""

from __future__ import annotations

from uuid import UUID

from litestar import get
from litestar.params import FromPath

from services.pooling.domain.eudr_statement import NotCovered, Statement
from services.pooling.use_cases.exports import eudr_statement
from shared.api import Caller, Context
from shared.auth import Role
from shared.guards import allow
from shared.problems import problem_responses


@get("/pools/{pool_id:uuid}/eudr", guards=[allow(Role.AGGREGATOR)], responses=problem_responses(409))
async def get_eudr_statement(pool_id: FromPath[UUID], principal: Caller, ctx: Context) -> Statement | NotCovered:
    """The EU deforestation regulation due diligence statement's data for the lots the pool shipped, with the
    producers' plots as one GeoJSON FeatureCollection. Goods outside Annex I answer ``{"covered": false}``; a
    statement that would break a limit (25 MB of GeoJSON, producers per commodity), lacks a unit mass or a lot's
    plots is refused with 409 naming what is missing."""
    return await eudr_statement(ctx, principal, pool_id)


ROUTES = [get_eudr_statement]
