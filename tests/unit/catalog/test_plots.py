"""Plots: production places checked as RFC 7946 GeoJSON, with areas measured on the WGS 84 ellipsoid."""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec
import pytest

from events.catalog import (
    DeforestationFreeEvidence,
    HarvestPeriod,
    PlotRegistered,
    PlotWithdrawn,
    PointGeometry,
    PolygonGeometry,
)
from services.catalog.domain.geometry import geodesic_hectares
from services.catalog.domain.plot import MAX_PLOTS_PER_MSME, PLOT, PlotSpec, RegisterPlot, WithdrawPlot
from shared.kernel.errors import Conflict, InvalidInput
from tests.support.given import invalid_fields, then, then_raises
from tests.unit.catalog.given import MSME_ID, NOW

pytestmark = pytest.mark.unit

PLOT_ID = UUID("01890000-0000-7000-8000-0000000000a1")
# WGS 84: semi-major axis and first eccentricity squared.
A, E2 = 6_378_137.0, 0.00669437999014
# A square of about 1 km × 1 km on the equator (at 110° E, in Kalimantan Barat): 0.008983° of longitude and
# 0.009044° of latitude, at 6 decimals.
EAST, NORTH = 0.008983, 0.009044
SQUARE = [[(110.0, 0.0), (110.0 + EAST, 0.0), (110.0 + EAST, NORTH), (110.0, NORTH), (110.0, 0.0)]]


def expected_square_hectares() -> float:
    """Independent of pyproj: the width is an arc of the equator (radius a); the height a meridian arc with the
    meridian's radius of curvature at the equator, a(1 − e²); near the equator the square is flat to 1e-8."""
    width = A * math.radians(EAST)
    height = A * (1 - E2) * math.radians(NORTH)
    return width * height / 10_000


def spec(**overrides: Any) -> PlotSpec:
    values: dict[str, Any] = {
        "name": "Kebun Kopi Gayo 1",
        "geometry": PolygonGeometry(
            coordinates=[[(96.85, 4.62), (96.86, 4.62), (96.86, 4.63), (96.85, 4.63), (96.85, 4.62)]]
        ),
        "country": "ID",
        "region": "aceh",
        "commodity": "coffee",
        "harvest": HarvestPeriod(start=date(2026, 5, 1), end=date(2026, 8, 31)),
        "evidence": DeforestationFreeEvidence(document_reference="KLHK-2024-0091", as_of=date(2024, 3, 1)),
    }
    values.update(overrides)
    return PlotSpec(**values)


def register(**overrides: Any) -> RegisterPlot:
    return RegisterPlot(
        plot_id=PLOT_ID, msme_id=MSME_ID, org="gayo-farmers", spec=spec(**overrides), by="kopi-trading",
        today=NOW.date(), at=NOW,
    )  # fmt: skip


def test_a_one_kilometre_square_on_the_equator_measures_a_hundred_hectares_geodesically() -> None:
    measured = float(geodesic_hectares(PolygonGeometry(coordinates=SQUARE)))
    expected = expected_square_hectares()
    assert abs(expected - 100) < 0.1  # the square was drawn as 1 km × 1 km
    assert abs(measured - expected) / expected < 0.005
    # A planar area in square degrees would be about 8e-5: nothing like hectares.
    assert abs(measured - EAST * NORTH) > 99


def test_a_polygon_plot_is_registered_with_its_measured_area_and_canonical_region() -> None:
    [event] = then(PLOT, [], register())
    assert isinstance(event, PlotRegistered)
    assert event.area_source == "geodesic" and event.region == "Aceh" and event.commodity == "coffee"
    # 0.01° × 0.01° at 4.6° N: about 1,109 m × 1,106 m.
    assert Decimal("120") < event.area_hectares < Decimal("125")
    assert event.org == "gayo-farmers" and event.registered_by == "kopi-trading"


def test_a_point_stands_only_for_a_plot_of_at_most_four_hectares_with_a_declared_area() -> None:
    point = PointGeometry(coordinates=(96.851234, 4.621234))
    [event] = then(PLOT, [], register(geometry=point, area_hectares=Decimal("3.5")))
    assert isinstance(event, PlotRegistered) and event.area_hectares == Decimal("3.5")
    assert event.area_source == "declared"
    assert invalid_fields(PLOT, [], register(geometry=point)) == {"area_hectares"}
    assert invalid_fields(PLOT, [], register(geometry=point, area_hectares=Decimal("4.5"))) == {"geometry"}


def _messages(when: RegisterPlot) -> dict[str, str]:
    error = then_raises(PLOT, [], when, InvalidInput)
    assert isinstance(error, InvalidInput)
    return {e.field: e.message for e in error.errors}


def test_geometry_problems_are_named_with_their_path() -> None:
    ring = [(96.85, 4.62), (96.86, 4.62), (96.86, 4.63), (96.85, 4.63)]
    open_ring = _messages(register(geometry=PolygonGeometry(coordinates=[ring])))
    assert "not closed" in open_ring["geometry.coordinates[0]"]
    bowtie = [(96.85, 4.62), (96.86, 4.63), (96.86, 4.62), (96.85, 4.63), (96.85, 4.62)]
    crossing = _messages(register(geometry=PolygonGeometry(coordinates=[bowtie])))
    assert "self-intersects" in crossing["geometry.coordinates[0]"]
    clockwise = _messages(register(geometry=PolygonGeometry(coordinates=[[*reversed([*ring, ring[0]])]])))
    assert "wrong winding" in clockwise["geometry.coordinates[0]"]
    swapped = [(lat, lon) for lon, lat in [*ring, ring[0]]]  # [lat, lon] by mistake
    assert (
        "[longitude, latitude]"
        in _messages(register(geometry=PolygonGeometry(coordinates=[swapped])))["geometry.coordinates[0][0]"]
    )
    in_australia = [(133.0, -25.0), (133.01, -25.0), (133.01, -24.99), (133.0, -24.99), (133.0, -25.0)]
    outside = _messages(register(geometry=PolygonGeometry(coordinates=[in_australia])))
    assert "outside ID" in outside["geometry.coordinates[0][0]"]
    fine = [(96.8512345, 4.62), (96.86, 4.62), (96.86, 4.63), (96.85, 4.63), (96.8512345, 4.62)]
    precise = _messages(register(geometry=PolygonGeometry(coordinates=[fine])))
    assert "more than 6 decimals" in precise["geometry.coordinates[0][0]"]


def test_a_plot_is_checked_against_its_declared_country() -> None:
    in_thailand = PolygonGeometry(
        coordinates=[[(99.80, 8.40), (99.81, 8.40), (99.81, 8.41), (99.80, 8.41), (99.80, 8.40)]]
    )
    [event] = then(PLOT, [], register(geometry=in_thailand, country="TH", region="Nakhon Si Thammarat"))
    assert isinstance(event, PlotRegistered) and event.country == "TH"
    assert "outside ID" in _messages(register(geometry=in_thailand))["geometry.coordinates[0][0]"]
    assert set(_messages(register(country="XX"))) == {"country"}
    assert set(_messages(register(country="BR"))) == {"country"}  # a real country whose bounds Gotong lacks


def test_a_hole_must_wind_clockwise_and_lie_inside() -> None:
    shell = [(96.85, 4.62), (96.86, 4.62), (96.86, 4.63), (96.85, 4.63), (96.85, 4.62)]
    hole = [(96.852, 4.622), (96.852, 4.624), (96.854, 4.624), (96.854, 4.622), (96.852, 4.622)]
    [event] = then(PLOT, [], register(geometry=PolygonGeometry(coordinates=[shell, hole])))
    whole = then(PLOT, [], register())[0]
    assert isinstance(event, PlotRegistered) and isinstance(whole, PlotRegistered)
    assert Decimal("4.8") < whole.area_hectares - event.area_hectares < Decimal("5.0")  # about 221 m × 221 m
    wrong = _messages(register(geometry=PolygonGeometry(coordinates=[shell, [*reversed(hole)]])))
    assert "wrong winding" in wrong["geometry.coordinates[1]"]


def test_commodity_region_dates_and_declared_area_are_checked() -> None:
    assert set(_messages(register(commodity="seagrass"))) == {"commodity"}
    assert set(_messages(register(region="Atlantis"))) == {"region"}
    backwards = HarvestPeriod(start=date(2026, 8, 1), end=date(2026, 5, 1))
    assert set(_messages(register(harvest=backwards))) == {"harvest.end"}
    early = DeforestationFreeEvidence(document_reference="old survey", as_of=date(2019, 6, 1))
    assert "2020-12-31" in _messages(register(evidence=early))["evidence.as_of"]
    assert "measures" in _messages(register(area_hectares=Decimal("50")))["area_hectares"]


def test_a_plot_is_withdrawn_once_with_a_reason() -> None:
    given = then(PLOT, [], register())
    [withdrawn] = then(PLOT, given, WithdrawPlot(reason="sold to a neighbour", by="gayo-farmers", at=NOW))
    assert isinstance(withdrawn, PlotWithdrawn) and withdrawn.plot_id == PLOT_ID
    again = WithdrawPlot(reason="again", by="gayo-farmers", at=NOW)
    then_raises(PLOT, [*given, withdrawn], again, Conflict)
    assert then(PLOT, given, register()) == []  # registering the same id again changes nothing


def test_an_msme_holds_at_most_ten_thousand_active_plots() -> None:
    assert len(then(PLOT, [], msgspec.structs.replace(register(), active_plots=MAX_PLOTS_PER_MSME - 1))) == 1
    full = msgspec.structs.replace(register(), active_plots=MAX_PLOTS_PER_MSME)
    error = then_raises(PLOT, [], full, Conflict)
    assert error.problem == "too-many-plots" and error.extensions["limit"] == 10_000
