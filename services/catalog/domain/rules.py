"""What makes catalog data valid: NIB, HS codes, units, locations, price tiers, origin plots and months.

Each check returns the ``FieldError``s it finds (with the field's path in the request), so a command can
report every bad field at once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal

from events.catalog import Contact, OriginPlot, PointGeometry, PolygonGeometry
from events.common import PriceTier
from shared.kernel.currencies import is_currency, minor_units
from shared.kernel.errors import FieldError
from shared.kernel.eudr import annex_i
from shared.kernel.geography import PROVINCES, city_refusal, find_city, province_refusal
from shared.kernel.months import is_month, month_of, months_apart
from shared.kernel.units import UNITS

MAX_PRICE_TIERS = 20
MAX_PLOT_POINTS = 2_000
MAX_MONTHS_AHEAD = 24
MAX_MONTHLY_UNITS = 100_000_000
POINT_PLOT_MAX_HECTARES = Decimal(4)  # larger plots must be described by a polygon (EUDR art. 2(28))

_NIB = re.compile(r"^\d{13}$")
_HS = re.compile(r"^\d{6,10}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{5,19}$")
_CATEGORY = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
_SKU = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")


def nib_errors(nib: str, field: str = "nib") -> list[FieldError]:
    """A NIB (Nomor Induk Berusaha) is exactly 13 digits."""
    return [] if _NIB.match(nib) else [FieldError(field, "must be exactly 13 digits (the business's NIB)")]


def normalise_hs_code(raw: str) -> str:
    """HS codes may be written with dots (``4602.12.10``); they are kept as digits only."""
    return raw.replace(".", "").replace(" ", "")


def hs_code_errors(hs_code: str, field: str = "hs_code") -> list[FieldError]:
    """6 to 10 digits (dots allowed and removed), in an HS chapter that exists (01–97, not 77)."""
    digits = normalise_hs_code(hs_code)
    if not _HS.match(digits):
        return [FieldError(field, "must be an HS code of 6 to 10 digits, optionally with dots")]
    chapter = int(digits[:2])
    if not 1 <= chapter <= 97 or chapter == 77:
        return [FieldError(field, f"chapter {digits[:2]} is not an HS chapter")]
    return []


def eudr_commodity(hs_code: str) -> str | None:
    """The EU deforestation regulation commodity an HS code falls under, if any (Annex I, shipped as data)."""
    return annex_i().commodity_of(normalise_hs_code(hs_code))


def unit_errors(unit: str, field: str = "unit") -> list[FieldError]:
    if unit in UNITS:
        return []
    return [FieldError(field, f"must be a UN/ECE Recommendation 20 code, one of {', '.join(sorted(UNITS))}")]


def category_errors(category: str, field: str = "category") -> list[FieldError]:
    if _CATEGORY.match(category):
        return []
    return [FieldError(field, "must be 2 to 40 lower-case letters, digits or underscores, starting with a letter")]


def sku_errors(sku: str, field: str = "sku") -> list[FieldError]:
    if _SKU.match(sku):
        return []
    return [FieldError(field, "must be 1 to 64 letters, digits, '.', '_', '/' or '-', starting with a letter or digit")]


def certification_key(kind: str, name: str) -> str:
    """How a search names a certification: its kind (``halal``), or ``other:<name>`` for other schemes."""
    return f"other:{name.strip().lower()}" if kind == "other" else kind


def sku_key(sku: str) -> str:
    """SKUs are unique per MSME regardless of letter case."""
    return sku.upper()


def canonical_province(name: str) -> str | None:
    """The province's name as Gotong writes it (case-insensitive match), or None for no province."""
    return next((p for p in PROVINCES if p.casefold() == name.strip().casefold()), None)


def locate(province: str, city: str) -> tuple[str, str, list[FieldError]]:
    """The canonical province and city names (``"Solo"`` → ``"Surakarta"``), or the errors that prevent it."""
    known_province = canonical_province(province)
    errors: list[FieldError] = []
    if known_province is None:
        errors.append(FieldError("province", province_refusal()))
    found = find_city(city)
    if found is None:
        errors.append(FieldError("city", city_refusal(city)))
        return known_province or province, city, errors
    if known_province is not None and found.province != known_province:
        errors.append(FieldError("city", f"{found.name} is in {found.province}, not {known_province}"))
    return known_province or province, found.name, errors


def contact_errors(contact: Contact, field: str = "contact") -> list[FieldError]:
    errors: list[FieldError] = []
    if not contact.name.strip():
        errors.append(FieldError(f"{field}.name", "must not be blank"))
    if contact.email is not None and not _EMAIL.match(contact.email):
        errors.append(FieldError(f"{field}.email", "is not an email address"))
    if contact.phone is not None and not _PHONE.match(contact.phone):
        errors.append(FieldError(f"{field}.phone", "is not a phone number (digits, optionally with + ( ) - )"))
    if contact.email is None and contact.phone is None:
        errors.append(FieldError(field, "needs an email or a phone number"))
    return errors


def validity_errors(valid_from: date, valid_until: date) -> list[FieldError]:
    if valid_until < valid_from:
        return [FieldError("valid_until", "must not be before valid_from")]
    return []


def price_tier_errors(tiers: Sequence[PriceTier], moq: int, field: str = "price_tiers") -> list[FieldError]:
    """At least one tier, one ISO 4217 currency, positive prices, rising quantities, the first at or below MOQ."""
    if not tiers:
        return [FieldError(field, "needs at least one price tier")]
    if len(tiers) > MAX_PRICE_TIERS:
        return [FieldError(field, f"may have at most {MAX_PRICE_TIERS} tiers")]
    errors: list[FieldError] = []
    currency = tiers[0].unit_price.currency
    for index, tier in enumerate(tiers):
        path = f"{field}[{index}]"
        price = tier.unit_price
        if not is_currency(price.currency):
            errors.append(FieldError(f"{path}.unit_price.currency", "is not an ISO 4217 currency in circulation"))
        elif price.currency != currency:
            errors.append(FieldError(f"{path}.unit_price.currency", f"must be {currency}, like the first tier"))
        if not price.amount.is_finite() or price.amount <= 0:
            errors.append(FieldError(f"{path}.unit_price.amount", "must be a positive amount"))
        elif is_currency(price.currency) and _decimal_places(price.amount) > minor_units(price.currency):
            places = minor_units(price.currency)
            errors.append(FieldError(f"{path}.unit_price.amount", f"{price.currency} has {places} decimal places"))
        if tier.min_quantity < 1:
            errors.append(FieldError(f"{path}.min_quantity", "must be at least 1"))
        if index and tier.min_quantity <= tiers[index - 1].min_quantity:
            errors.append(FieldError(f"{path}.min_quantity", "must be larger than the previous tier's"))
    if tiers[0].min_quantity > moq:
        errors.append(FieldError(f"{field}[0].min_quantity", "must not exceed the MOQ, so every order has a price"))
    return errors


def _decimal_places(amount: Decimal) -> int:
    exponent = amount.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _position_errors(position: tuple[float, float], path: str) -> list[FieldError]:
    longitude, latitude = position
    errors: list[FieldError] = []
    if not -180.0 <= longitude <= 180.0:
        errors.append(FieldError(f"{path}[0]", "longitude must be between -180 and 180"))
    if not -90.0 <= latitude <= 90.0:
        errors.append(FieldError(f"{path}[1]", "latitude must be between -90 and 90"))
    return errors


def plot_errors(plot: OriginPlot, field: str) -> list[FieldError]:
    """A GeoJSON Point or Polygon in range, rings closed with at least 4 positions, and a positive area."""
    errors: list[FieldError] = []
    geometry = plot.geometry
    path = f"{field}.geometry.coordinates"
    if isinstance(geometry, PointGeometry):
        errors.extend(_position_errors(geometry.coordinates, path))
        if plot.area_hectares > POINT_PLOT_MAX_HECTARES:
            errors.append(FieldError(f"{field}.geometry", "a plot of more than 4 ha must be given as a Polygon"))
    elif isinstance(geometry, PolygonGeometry):
        if not geometry.coordinates:
            errors.append(FieldError(path, "a Polygon needs at least its outer ring"))
        if sum(len(ring) for ring in geometry.coordinates) > MAX_PLOT_POINTS:
            return [FieldError(path, f"a plot may have at most {MAX_PLOT_POINTS} positions")]
        for r, ring in enumerate(geometry.coordinates):
            ring_path = f"{path}[{r}]"
            if len(ring) < 4:
                errors.append(FieldError(ring_path, "a linear ring needs at least 4 positions"))
            elif ring[0] != ring[-1]:
                errors.append(FieldError(ring_path, "a linear ring must end where it starts"))
            for p, position in enumerate(ring):
                errors.extend(_position_errors(position, f"{ring_path}[{p}]"))
    if not plot.area_hectares.is_finite() or plot.area_hectares <= 0:
        errors.append(FieldError(f"{field}.area_hectares", "must be a positive number of hectares"))
    return errors


def capacity_errors(months: Mapping[str, int], now: datetime) -> list[FieldError]:
    """Capacity may be declared for future calendar months only, up to two years ahead, in whole units."""
    current = month_of(now)
    errors: list[FieldError] = []
    if not months:
        errors.append(FieldError("months", "declare at least one month"))
    for month, units in months.items():
        path = f"months.{month}"
        if not is_month(month):
            errors.append(FieldError(path, "is not a month (YYYY-MM)"))
            continue
        ahead = months_apart(current, month)
        if ahead <= 0:
            errors.append(FieldError(path, f"capacity can be declared only for months after {current}"))
        elif ahead > MAX_MONTHS_AHEAD:
            errors.append(FieldError(path, f"is more than {MAX_MONTHS_AHEAD} months ahead"))
        if not 0 <= units <= MAX_MONTHLY_UNITS:
            errors.append(FieldError(path, f"units must be between 0 and {MAX_MONTHLY_UNITS}"))
    return errors
