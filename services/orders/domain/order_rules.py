"""What makes an order request or a quote acceptable, reported field by field."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from events.common import Money
from events.orders import OrderLine, QuotedLine
from shared.kernel.countries import is_country
from shared.kernel.currencies import is_currency, minor_units
from shared.kernel.digits import is_digits
from shared.kernel.errors import FieldError
from shared.kernel.geography import find_place
from shared.kernel.units import is_unit

SEA_ONLY = frozenset({"FAS", "FOB", "CFR", "CIF"})
"""Incoterms 2020 rules for sea and inland waterway transport only: they name a port."""

MAX_NOTES = 2000


def money_errors(field: str, money: Money) -> list[FieldError]:
    """A price must be a positive amount in an ISO 4217 currency, with no more decimals than it uses."""
    errors: list[FieldError] = []
    if not is_currency(money.currency):
        errors.append(FieldError(f"{field}.currency", f"{money.currency!r} is not an ISO 4217 currency code"))
    amount = money.amount
    if not amount.is_finite() or amount <= 0:
        errors.append(FieldError(f"{field}.amount", "must be a positive decimal amount"))
    elif is_currency(money.currency) and _decimals(amount) > minor_units(money.currency):
        places = minor_units(money.currency)
        errors.append(FieldError(f"{field}.amount", f"{money.currency} amounts have at most {places} decimal places"))
    return errors


def _decimals(amount: Decimal) -> int:
    exponent = amount.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def line_errors(index: int, line: OrderLine) -> list[FieldError]:
    field = f"lines[{index}]"
    errors: list[FieldError] = []
    if not (is_digits(line.hs_code) and 6 <= len(line.hs_code) <= 10):
        errors.append(FieldError(f"{field}.hs_code", "must be an HS code of 6 to 10 digits"))
    if not line.category.strip():
        errors.append(FieldError(f"{field}.category", "must not be blank"))
    if not line.description.strip():
        errors.append(FieldError(f"{field}.description", "must not be blank"))
    if line.standard_version < 1:
        errors.append(FieldError(f"{field}.standard_version", "must be a published version number, 1 or more"))
    if line.quantity <= 0:
        errors.append(FieldError(f"{field}.quantity", "must be a whole number greater than 0"))
    if not is_unit(line.unit):
        errors.append(FieldError(f"{field}.unit", f"{line.unit!r} is not a UN/ECE Recommendation 20 unit code"))
    errors.extend(money_errors(f"{field}.target_unit_price", line.target_unit_price))
    return errors


def destination_errors(incoterm: str, country: str, port: str | None, loading_port: str | None) -> list[FieldError]:
    """Country must be ISO 3166-1; sea-only Incoterms need a UN/LOCODE port in that country."""
    errors: list[FieldError] = []
    if not is_country(country):
        errors.append(FieldError("destination_country", f"{country!r} is not an ISO 3166-1 alpha-2 country code"))
    if port is None:
        if incoterm in SEA_ONLY:
            errors.append(FieldError("destination_port", f"is required with {incoterm}, a sea-only Incoterm"))
    elif not _is_locode(port):
        errors.append(FieldError("destination_port", "must be a UN/LOCODE: 2-letter country and 3 letters or digits"))
    elif port[:2] != country:
        errors.append(FieldError("destination_port", f"{port} is not in the destination country {country}"))
    if loading_port is not None:
        place = find_place(loading_port) if _is_locode(loading_port) else None
        if place is None or place.kind != "port" or place.locode != loading_port:
            errors.append(FieldError("loading_port", f"{loading_port!r} is not a known Indonesian port UN/LOCODE"))
    return errors


def _is_locode(code: str) -> bool:
    return (
        len(code) == 5
        and code[:2].isascii()
        and code[:2].isalpha()
        and code[:2].isupper()
        and all(c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ23456789" for c in code[2:])
    )


def order_errors(
    *,
    lines: Sequence[OrderLine],
    incoterm: str,
    destination_country: str,
    destination_port: str | None,
    loading_port: str | None,
    required_by: date,
    notes: str,
    today: date,
) -> list[FieldError]:
    """Every reason an order request cannot be accepted, naming each field."""
    errors: list[FieldError] = []
    if not lines:
        errors.append(FieldError("lines", "an order needs at least one line"))
    for index, line in enumerate(lines):
        errors.extend(line_errors(index, line))
    errors.extend(destination_errors(incoterm, destination_country, destination_port, loading_port))
    if required_by <= today:
        errors.append(FieldError("required_by", f"must be a date after today ({today.isoformat()})"))
    if len(notes) > MAX_NOTES:
        errors.append(FieldError("notes", f"must be at most {MAX_NOTES} characters"))
    return errors


def quote_errors(
    line_ids: Sequence[object], prices: Sequence[QuotedLine], lead_time_days: int, valid_until: datetime, at: datetime
) -> list[FieldError]:
    """A quote prices every line of the order exactly once and stays valid for some time from now."""
    errors: list[FieldError] = []
    wanted = set(line_ids)
    seen: set[object] = set()
    for index, price in enumerate(prices):
        if price.line_id not in wanted:
            errors.append(FieldError(f"lines[{index}].line_id", "is not a line of this order"))
        elif price.line_id in seen:
            errors.append(FieldError(f"lines[{index}].line_id", "is priced twice"))
        seen.add(price.line_id)
        errors.extend(money_errors(f"lines[{index}].unit_price", price.unit_price))
    missing = [str(line_id) for line_id in line_ids if line_id not in seen]
    if missing:
        errors.append(FieldError("lines", f"every line needs a price; missing: {', '.join(missing)}"))
    if lead_time_days < 1:
        errors.append(FieldError("lead_time_days", "must be at least 1 day"))
    if valid_until <= at:
        errors.append(FieldError("valid_until", f"must be in the future (now is {at.isoformat()})"))
    return errors
