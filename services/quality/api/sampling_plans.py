"""Route for ISO 2859-1 sampling plans: the plan for a lot size, AQL, inspection level and severity."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from litestar import get
from litestar.params import QueryParameter

from services.quality.domain.sampling import (
    MINIMUM_LOT_SIZE,
    InvalidAql,
    InvalidSamplingParameter,
    parse_aql,
    parse_level,
    parse_severity,
    sampling_plan,
)
from services.quality.read.views import SamplingPlanView, sampling_plan_view
from shared.bounds import MAX_QUANTITY, RATE
from shared.guards import Scope, allow
from shared.kernel.digits import is_digits
from shared.kernel.errors import FieldError, InvalidInput


@get("/sampling-plans", guards=[allow(scope=Scope.QUALITY_READ)])
async def get_sampling_plan(
    lot_size: Annotated[
        str | None, QueryParameter(name="lot_size", max_length=20, description="items in the lot, 2 to 100,000,000")
    ] = None,
    aql: Annotated[
        str | None,
        QueryParameter(name="aql", max_length=20, description="an AQL of the preferred series, 0.010 … 1000"),
    ] = None,
    level: Annotated[str, QueryParameter(name="level", max_length=3, description="I, II, III or S-1 … S-4")] = "II",
    severity: Annotated[
        str, QueryParameter(name="severity", max_length=9, description="normal, tightened or reduced")
    ] = "normal",
) -> SamplingPlanView:
    """The single sampling plan for a lot (ISO 2859-1:1999, Tables 1, 2-A, 2-B and 2-C), arrows followed.

    Every bad or missing parameter is named in one 422.
    """
    errors: list[FieldError] = []
    size = _lot_size(lot_size, errors)
    parsed: dict[str, Any] = {}
    checks = (("aql", _aql, aql), ("level", parse_level, level), ("severity", parse_severity, severity))
    for name, parse, raw in checks:
        if raw is None:
            errors.append(FieldError(name, "is required"))
            continue
        try:
            parsed[name] = parse(raw)
        except InvalidSamplingParameter as error:
            errors.append(FieldError(error.field, error.message))
    if errors or size is None:
        raise InvalidInput(errors)
    return sampling_plan_view(size, sampling_plan(size, parsed["aql"], parsed["level"], parsed["severity"]))


def _aql(raw: str) -> Decimal:
    """An AQL of the preferred series, written plainly like every decimal Gotong takes (not ``1e0``)."""
    if not RATE.admits(raw.strip()):
        raise InvalidAql(raw)
    return parse_aql(raw)


def _lot_size(raw: str | None, errors: list[FieldError]) -> int | None:
    if raw is None:
        errors.append(FieldError("lot_size", "is required"))
        return None
    digits = raw.strip()
    if not is_digits(digits) or not MINIMUM_LOT_SIZE <= int(digits) <= MAX_QUANTITY:
        errors.append(
            FieldError(
                "lot_size", f"must be a whole number of {MINIMUM_LOT_SIZE} to {MAX_QUANTITY:,} items, not {raw!r}"
            )
        )
        return None
    return int(digits)


ROUTES = [get_sampling_plan]
