"""``GET /v1/regions``: the regencies and cities (kabupaten/kota) an MSME's ``city`` may name."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import get
from litestar.params import QueryParameter

from services.catalog.domain.rules import canonical_province
from shared.api import Caller, Cursor, Limit
from shared.errors import InvalidInput
from shared.geography import City, province_refusal, regencies
from shared.pages import Cursor as PageCursor
from shared.pages import Page
from shared.problems import problem_responses

RegionCode = Annotated[str, msgspec.Meta(pattern=r"^\d{2}\.\d{2}$")]
BY_CODE: PageCursor[tuple[RegionCode]] = PageCursor(tuple[RegionCode])


class Region(msgspec.Struct, frozen=True, kw_only=True):
    """A regency or city: ``name`` is what Gotong stores as an MSME's city, ``regency`` its official name."""

    code: str
    name: str
    regency: str
    province: str
    latitude: float
    longitude: float


def _region(city: City) -> Region:
    return Region(
        code=city.code,
        name=city.name,
        regency=city.regency,
        province=city.province,
        latitude=city.latitude,
        longitude=city.longitude,
    )


@get("/regions", responses=problem_responses(401, 422))
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
    in_province = canonical_province(province) if province is not None else None
    if province is not None and in_province is None:
        raise InvalidInput.of("province", province_refusal())
    after = BY_CODE.decode(cursor)
    wanted = " ".join(q.casefold().split()) if q is not None else ""
    rows = [
        city
        for city in regencies()
        if (after is None or city.code > after[0])
        and (in_province is None or city.province == in_province)
        and (wanted in city.name.casefold() or wanted in city.regency.casefold())
    ]
    return BY_CODE.page(rows[: limit + 1], limit, _region, lambda region: (region.code,))
