"""Bounded values: decimals in one plain notation with limited digits, whole numbers within their columns."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest

from shared.bounds import MAX_QUANTITY, MAX_VERSION, Amount, Count, Measurement, Quantity, Rate, Version
from shared.kernel.errors import InvalidInput
from shared.validation import decode_body

pytestmark = pytest.mark.unit


class Price(msgspec.Struct, forbid_unknown_fields=True):
    amount: Amount
    share: Rate | None = None
    values: list[Measurement] = []
    rates: dict[str, Rate] = {}


AMOUNT_RULE = 'must be a decimal string with at most 12 digits before and 4 after the point, e.g. "12.50"'


def refused(body: bytes) -> dict[str, str]:
    with pytest.raises(InvalidInput) as raised:
        decode_body(body, Price)
    return {e.field: e.message for e in raised.value.errors}


@pytest.mark.parametrize(
    "amount",
    ['"NaN"', '"sNaN"', '"-NaN"', '"Infinity"', '"-Infinity"', '"1e400"', '"1E+2"', "1e400", "1.5e1",
     '"99999999999999999999999999999.99"', '"1234567890123"', '"1.23456"', '" 12.50"', '"12.50 "', '"+5"',
     '"1_000"', '".5"', '"5."', '""', "true", "[]"],
)  # fmt: skip
def test_a_price_that_is_not_a_plain_bounded_decimal_is_refused_saying_what_is_allowed(amount: str) -> None:
    assert refused(b'{"amount": ' + amount.encode() + b"}") == {"amount": AMOUNT_RULE}


@pytest.mark.parametrize(
    ("amount", "value"),
    [('"12.50"', "12.50"), ('"999999999999.9999"', "999999999999.9999"), ('"0"', "0"), ("12.5", "12.5"),
     ("7", "7"), ('"-2"', "-2")],
)  # fmt: skip
def test_a_plain_decimal_within_its_digits_is_kept_exactly(amount: str, value: str) -> None:
    decoded = decode_body(b'{"amount": ' + amount.encode() + b"}", Price)
    assert decoded.amount == Decimal(value) and str(decoded.amount) == value


def test_rates_and_measurements_are_checked_in_optional_fields_lists_and_maps() -> None:
    body = b'{"amount": "1", "share": "NaN", "values": [13.5, "14", "1e3"], "rates": {"EUR": "Infinity", "JPY": "1"}}'
    errors = refused(body)
    assert set(errors) == {"share", "values[2]", "rates.EUR"}
    assert "10 after the point" in errors["share"] and "6 after the point" in errors["values[2]"]
    fine = decode_body(
        b'{"amount": "1", "share": "0.25", "values": [-4.5, "12.75"], "rates": {"JPY": "0.0065"}}', Price
    )
    assert fine.values == [Decimal("-4.5"), Decimal("12.75")] and fine.rates == {"JPY": Decimal("0.0065")}


class Counts(msgspec.Struct):
    version: Version
    quantity: Quantity
    defects: dict[str, Count]


def test_whole_numbers_fit_a_postgresql_integer() -> None:
    assert MAX_VERSION == 2**31 - 1 and MAX_QUANTITY < 2**31
    with pytest.raises(InvalidInput) as raised:
        decode_body(b'{"version": 1127741306468370, "quantity": 0, "defects": {"major": -1, "minor": 2}}', Counts)
    assert {e.field for e in raised.value.errors} == {"version", "quantity", "defects.major"}
    decoded = decode_body(b'{"version": 2147483647, "quantity": 100000000, "defects": {"minor": 0}}', Counts)
    assert decoded.version == MAX_VERSION
