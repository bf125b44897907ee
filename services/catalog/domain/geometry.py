"""Plot geometry (EU deforestation regulation geolocation): GeoJSON per RFC 7946 checked, and areas measured on
the WGS 84 ellipsoid. Pure.

A position is ``[longitude, latitude]`` with at most 6 decimals (about 11 cm), inside the declared country's
bounds. A Polygon's rings are closed, simple (no self-intersection), with the exterior counter-clockwise and
holes clockwise (RFC 7946 §3.1.6). Its area is geodesic (pyproj's ``Geod``), never planar degrees.
"""

from __future__ import annotations

from decimal import Decimal

import shapely
from pyproj import Geod
from shapely.geometry import LinearRing, Polygon
from shapely.validation import explain_validity

from events.catalog import PlotGeometry, PointGeometry, PolygonGeometry
from shared.kernel.countries import country_bounds
from shared.kernel.errors import FieldError

MAX_DECIMALS = 6
MAX_POSITIONS = 2_000
POINT_MAX_HECTARES = Decimal(4)  # larger plots must be described by a polygon (EUDR art. 2(28))
SQUARE_METRES_PER_HECTARE = 10_000
_WGS84 = Geod(ellps="WGS84")
Position = tuple[float, float]


def _decimals(value: float) -> int:
    exponent = Decimal(repr(value)).as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def position_errors(position: Position, country: str, path: str) -> list[FieldError]:
    """In range, at most 6 decimals, and inside the country's bounds (when its bounds are known)."""
    longitude, latitude = position
    if not (-180.0 <= longitude <= 180.0 and -90.0 <= latitude <= 90.0):
        return [
            FieldError(
                path,
                "is not [longitude, latitude] (longitude -180 to 180, latitude -90 to 90); "
                "was it written [latitude, longitude]?",
            )
        ]
    if _decimals(longitude) > MAX_DECIMALS or _decimals(latitude) > MAX_DECIMALS:
        return [FieldError(path, f"has more than {MAX_DECIMALS} decimals; round to {MAX_DECIMALS} (about 11 cm)")]
    bounds = country_bounds().get(country)
    if bounds is not None:
        west, south, east, north = bounds
        if not (west <= longitude <= east and south <= latitude <= north):
            return [FieldError(path, f"[{longitude}, {latitude}] is outside {country} ({west}..{east} E, "
                                     f"{south}..{north} N); GeoJSON positions are [longitude, latitude]")]  # fmt: skip
    return []


def _ring_errors(ring: list[Position], exterior: bool, country: str, path: str) -> list[FieldError]:
    if len(ring) < 4:
        return [FieldError(path, "a linear ring needs at least 4 positions (the first repeated last)")]
    errors = [e for p, position in enumerate(ring) for e in position_errors(position, country, f"{path}[{p}]")]
    if errors:
        return errors
    if ring[0] != ring[-1]:
        return [FieldError(path, "ring not closed: its last position must repeat its first")]
    linear = LinearRing(ring)
    if not linear.is_simple or len(set(ring[:-1])) < 3:
        return [FieldError(path, "ring self-intersects (its edges cross or touch); trace the boundary once")]
    if linear.is_ccw != exterior:
        wanted = "counter-clockwise" if exterior else "clockwise"
        which = "the exterior ring" if exterior else "a hole"
        return [FieldError(path, f"wrong winding: {which} must be {wanted} (RFC 7946 §3.1.6)")]
    return []


def geometry_errors(geometry: PlotGeometry, country: str, path: str = "geometry") -> list[FieldError]:
    """Every reason ``geometry`` is not a plot GeoJSON accepts, each with its path (``geometry.coordinates[0]``)."""
    coordinates = f"{path}.coordinates"
    if isinstance(geometry, PointGeometry):
        return position_errors(geometry.coordinates, country, coordinates)
    if not geometry.coordinates:
        return [FieldError(coordinates, "a Polygon needs at least its exterior ring")]
    if sum(len(ring) for ring in geometry.coordinates) > MAX_POSITIONS:
        return [FieldError(coordinates, f"a plot may have at most {MAX_POSITIONS} positions")]
    errors: list[FieldError] = []
    for r, ring in enumerate(geometry.coordinates):
        errors += _ring_errors(list(ring), r == 0, country, f"{coordinates}[{r}]")
    if not errors:
        polygon = _polygon(geometry)
        if not polygon.is_valid:
            errors.append(FieldError(coordinates, f"is not a valid polygon: {explain_validity(polygon)}"))
    return errors


def _polygon(geometry: PolygonGeometry) -> Polygon:
    shell, *holes = geometry.coordinates
    return Polygon(shell, holes)


def geodesic_hectares(geometry: PolygonGeometry) -> Decimal:
    """The polygon's area on the WGS 84 ellipsoid (holes excluded), in hectares to 4 decimals (1 m²)."""
    area, _ = _WGS84.geometry_area_perimeter(shapely.force_2d(_polygon(geometry)))
    return (Decimal(abs(area)) / SQUARE_METRES_PER_HECTARE).quantize(Decimal("0.0001"))
