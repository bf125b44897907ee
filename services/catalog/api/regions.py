"""``GET /v1/regions``: the regencies and cities (kabupaten/kota) an MSME's ``city`` may name."""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.params import QueryParameter

from services.catalog.read import queries
from services.catalog.read.views import Region
from shared.api import Caller, Cursor, Limit
from shared.guards import Scope, allow
from shared.pages import Page


@get("/regions", guards=[allow(scope=Scope.CATALOG_READ)])
async def list_regions(
    principal: Caller,
    q: Annotated[
        str | None, QueryParameter(name="q", min_length=1, max_length=60, description="part of a name")
    ] = None,
    province: Annotated[str | None, QueryParameter(name="province", max_length=60)] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[Region]:
    """Indonesia's regencies and cities in code order, filtered by part of their name and by province."""
    return queries.find_regions(q, province, limit=limit, cursor=cursor)
