"""The plot aggregate: a production place of an MSME (EU deforestation regulation geolocation). Pure.

A Point stands for a plot of at most 4 ha and needs its declared area; anything larger is a Polygon, whose area
is measured geodesically (a declared area, if given, must agree within 5 %). The region is a province when the
country is Indonesia. Evidence of being deforestation-free speaks for a day on or after the cut-off.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

import msgspec

from events.catalog import (
    AreaSource,
    DeforestationFreeEvidence,
    HarvestPeriod,
    PlotGeometry,
    PlotRegistered,
    PlotWithdrawn,
    PointGeometry,
    TreeSpecies,
)
from services.catalog.domain import geometry
from shared.kernel.countries import COUNTRIES, country_bounds
from shared.kernel.decider import Decider
from shared.kernel.errors import Conflict, FieldError, InvalidInput, NotFound
from shared.kernel.eudr import annex_i
from shared.kernel.geography import PROVINCES, province_refusal

PlotEvent = PlotRegistered | PlotWithdrawn
AREA_TOLERANCE = Decimal("0.05")
MAX_PLOTS_PER_MSME = 10_000
"""Active plots an MSME may hold: far above a cooperative's members' farms, and a bound on what one MSME's lots
put into an EUDR statement (whose GeoJSON is limited to 25 MB)."""


class PlotSpec(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    geometry: PlotGeometry
    country: str
    region: str
    commodity: str
    area_hectares: Decimal | None = None
    harvest: HarvestPeriod | None = None
    evidence: DeforestationFreeEvidence | None = None
    species: list[TreeSpecies] = msgspec.field(default_factory=list)


@dataclass(frozen=True)
class Plot:
    registered: PlotRegistered | None = None
    withdrawn: bool = False


class RegisterPlot(msgspec.Struct, frozen=True, kw_only=True):
    plot_id: UUID
    msme_id: UUID
    org: str
    spec: PlotSpec
    by: str
    today: date
    at: datetime
    active_plots: int = 0
    """How many active plots the MSME holds already."""


class WithdrawPlot(msgspec.Struct, frozen=True, kw_only=True):
    reason: str
    by: str
    at: datetime


PlotCommand = RegisterPlot | WithdrawPlot


def _region(country: str, region: str) -> tuple[str, list[FieldError]]:
    if not region.strip():
        return region, [FieldError("region", "must name the region (a province in Indonesia)")]
    if country != "ID":
        return region.strip(), []
    province = next((p for p in PROVINCES if p.casefold() == region.strip().casefold()), None)
    return (province, []) if province else (region, [FieldError("region", province_refusal())])


def _dates(spec: PlotSpec, today: date) -> list[FieldError]:
    errors: list[FieldError] = []
    if spec.harvest is not None and spec.harvest.end < spec.harvest.start:
        errors.append(FieldError("harvest.end", "must not be before harvest.start"))
    if spec.evidence is not None:
        cut_off = annex_i().cut_off
        if spec.evidence.as_of < cut_off:
            errors.append(FieldError("evidence.as_of", f"must be on or after the cut-off, {cut_off.isoformat()}"))
        elif spec.evidence.as_of > today:
            errors.append(FieldError("evidence.as_of", "must not be in the future"))
        if not spec.evidence.document_reference.strip():
            errors.append(FieldError("evidence.document_reference", "must not be blank"))
    return errors


def _area(spec: PlotSpec) -> tuple[Decimal, AreaSource, list[FieldError]]:
    declared = spec.area_hectares
    if declared is not None and (not declared.is_finite() or declared <= 0):
        return Decimal(0), "declared", [FieldError("area_hectares", "must be a positive number of hectares")]
    if isinstance(spec.geometry, PointGeometry):
        if declared is None:
            return Decimal(0), "declared", [FieldError("area_hectares", "is required for a Point: declare the area")]
        if declared > geometry.POINT_MAX_HECTARES:
            message = f"a plot of more than {geometry.POINT_MAX_HECTARES} ha must be given as a Polygon, not a Point"
            return declared, "declared", [FieldError("geometry", message)]
        return declared, "declared", []
    measured = geometry.geodesic_hectares(spec.geometry)
    if measured <= 0:
        return measured, "geodesic", [FieldError("geometry.coordinates[0]", "encloses no area")]
    if declared is not None and abs(declared - measured) > AREA_TOLERANCE * measured:
        message = f"is {declared} ha but the polygon measures {measured} ha on the WGS 84 ellipsoid; omit it or fix it"
        return measured, "geodesic", [FieldError("area_hectares", message)]
    return measured, "geodesic", []


def _register(command: RegisterPlot, state: Plot) -> list[PlotEvent]:
    if state.registered is not None:
        return []  # registration is idempotent per plot id
    if command.active_plots >= MAX_PLOTS_PER_MSME:
        raise Conflict(
            f"the MSME holds {command.active_plots} active plots, the most it may; withdraw one it no longer uses",
            problem="too-many-plots",
            limit=MAX_PLOTS_PER_MSME,
        )
    spec = command.spec
    errors: list[FieldError] = []
    if not spec.name.strip():
        errors.append(FieldError("name", "must not be blank"))
    country = spec.country.upper()
    if country not in COUNTRIES:
        errors.append(FieldError("country", "is not an ISO 3166-1 alpha-2 country code"))
    elif country not in country_bounds():
        known = ", ".join(sorted(country_bounds()))
        errors.append(FieldError("country", f"Gotong cannot check plots in {country} yet; one of {known}"))
    if spec.commodity not in annex_i().commodities:
        errors.append(FieldError("commodity", f"must be an Annex I commodity: {', '.join(annex_i().commodities)}"))
    region, refused = _region(country, spec.region)
    for index, species in enumerate(spec.species):
        if not species.scientific_name.strip() or not species.common_name.strip():
            errors.append(FieldError(f"species[{index}]", "needs both a scientific and a common name"))
    errors += refused + _dates(spec, command.today) + geometry.geometry_errors(spec.geometry, country)
    if errors:
        raise InvalidInput(errors)
    area, source, refused = _area(spec)
    if refused:
        raise InvalidInput(refused)
    return [
        PlotRegistered(
            plot_id=command.plot_id,
            msme_id=command.msme_id,
            org=command.org,
            name=spec.name.strip(),
            geometry=spec.geometry,
            area_hectares=area,
            area_source=source,
            country=country,
            region=region,
            commodity=spec.commodity,
            harvest=spec.harvest,
            evidence=spec.evidence,
            species=[
                TreeSpecies(scientific_name=s.scientific_name.strip(), common_name=s.common_name.strip())
                for s in spec.species
            ],
            registered_by=command.by,
            at=command.at,
        )
    ]


def decide(command: PlotCommand, state: Plot) -> Sequence[PlotEvent]:
    if isinstance(command, RegisterPlot):
        return _register(command, state)
    registered = state.registered
    if registered is None:
        raise NotFound("no such plot")
    if state.withdrawn:
        raise Conflict(f"plot {registered.plot_id} is already withdrawn", problem="plot-withdrawn")
    if not command.reason.strip():
        raise InvalidInput.of("reason", "must say why the plot is withdrawn")
    return [
        PlotWithdrawn(
            plot_id=registered.plot_id,
            msme_id=registered.msme_id,
            org=registered.org,
            reason=command.reason.strip(),
            withdrawn_by=command.by,
            at=command.at,
        )
    ]


def evolve(state: Plot, event: PlotEvent) -> Plot:
    match event:
        case PlotRegistered():
            return Plot(registered=event)
        case PlotWithdrawn():
            return replace(state, withdrawn=True)


PLOT = Decider[PlotCommand, Plot, PlotEvent]("plot", Plot(), decide, evolve)


def plot_stream(plot_id: UUID) -> str:
    return f"plot-{plot_id}"
