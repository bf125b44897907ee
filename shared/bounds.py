"""Bounded values a request may carry: whole numbers that fit the columns they are projected into, and decimals
in one plain notation with a fixed number of digits.

Each type holds its bounds twice: ``msgspec.Meta`` enforces them when a body is decoded, and ``documented``
repeats them for the OpenAPI document, where Litestar reads msgspec's constraints only on a struct's own fields,
not inside a list, a map or an optional (and drops a bound of 0). Decimals carry a ``DecimalShape``, which
``shared.validation`` checks against the JSON as sent, so ``"NaN"``, ``"1e400"`` or 30 digits never reach a
rule or an event.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from litestar.params import KwargDefinition

MAX_INTEGER = 2**31 - 1
"""The largest PostgreSQL ``integer``: read-model columns of versions, quantities and counts."""

MAX_VERSION = MAX_INTEGER
MAX_QUANTITY = 100_000_000
"""Units of one order line, lot, MOQ, price tier or month of capacity; sums of them are ``bigint``."""


class _Documented(KwargDefinition):
    """Hashable, so a type carrying it can be part of a union (``Rate | None``)."""

    def __hash__(self) -> int:
        return hash(tuple(sorted((self.schema_extra or {}).items())))


def documented(**schema: Any) -> KwargDefinition:
    """Bounds as the OpenAPI document shows them (``minimum``, ``maximum``, ``max_length``, ``pattern``)."""
    return _Documented(schema_extra=schema)


def whole(low: int, high: int) -> KwargDefinition:
    return documented(minimum=low, maximum=high)


Version = Annotated[
    int, msgspec.Meta(ge=1, le=MAX_VERSION, description="a version number, 1 or more"), whole(1, MAX_VERSION)
]
Quantity = Annotated[
    int, msgspec.Meta(ge=1, le=MAX_QUANTITY, description="whole units, 1 to 100,000,000"), whole(1, MAX_QUANTITY)
]
Count = Annotated[
    int, msgspec.Meta(ge=0, le=MAX_QUANTITY, description="a count of units or defects, 0 to 100,000,000"),
    whole(0, MAX_QUANTITY),
]  # fmt: skip
Position = Annotated[int, msgspec.Meta(ge=1, le=MAX_INTEGER), whole(1, MAX_INTEGER)]
"""A 1-based number in a sequence kept in an ``integer`` column (a quote's number, a version in a path)."""

Currency = Annotated[
    str, msgspec.Meta(pattern=r"^[A-Z]{3}$", max_length=3, description="ISO 4217 currency code"),
    documented(max_length=3, pattern=r"^[A-Z]{3}$"),
]  # fmt: skip
Month = Annotated[
    str, msgspec.Meta(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", max_length=7, description="a calendar month, YYYY-MM"),
    documented(max_length=7, pattern=r"^\d{4}-(0[1-9]|1[0-2])$"),
]  # fmt: skip

_PLAIN = re.compile(r"-?(\d+)(?:\.(\d+))?")


@dataclass(frozen=True)
class DecimalShape:
    """A decimal written plainly (digits, an optional point and fraction, an optional leading minus): no
    exponent, NaN or Infinity, at most ``integer_digits`` before the point and ``fraction_digits`` after."""

    integer_digits: int
    fraction_digits: int
    example: str

    @property
    def pattern(self) -> str:
        return rf"^-?\d{{1,{self.integer_digits}}}(\.\d{{1,{self.fraction_digits}}})?$"

    @property
    def max_length(self) -> int:
        return 1 + self.integer_digits + 1 + self.fraction_digits

    @property
    def rule(self) -> str:
        return (
            f"a decimal string with at most {self.integer_digits} digits before and {self.fraction_digits} "
            f'after the point, e.g. "{self.example}"'
        )

    def admits(self, raw: object) -> bool:
        """Is ``raw`` (a JSON string, or a number as ``shared.validation.parse_json`` keeps it) this shape?"""
        if isinstance(raw, bool):
            return False
        if isinstance(raw, int):
            text = str(raw)
        elif isinstance(raw, Decimal) and raw.is_finite():
            text = format(raw, "f")
        elif isinstance(raw, str):
            text = raw
        else:  # a float: a JSON number written with an exponent
            return False
        match = _PLAIN.fullmatch(text)
        if match is None:
            return False
        whole_digits, fraction = match.groups()
        return len(whole_digits) <= self.integer_digits and len(fraction or "") <= self.fraction_digits


AMOUNT = DecimalShape(12, 4, "12.50")
RATE = DecimalShape(12, 10, "0.25")
MEASUREMENT = DecimalShape(12, 6, "12.75")


def _shown(shape: DecimalShape, what: str) -> KwargDefinition:
    # no msgspec.Meta here: Litestar would read its description and then ignore these bounds
    return _Documented(
        description=f"{what}: {shape.rule}", schema_extra={"max_length": shape.max_length, "pattern": shape.pattern}
    )


Amount = Annotated[Decimal, AMOUNT, _shown(AMOUNT, "money")]
"""Money: prices, quotes, costs per unit or per MSME (the currency's own decimal places are a rule of their own)."""

Rate = Annotated[Decimal, RATE, _shown(RATE, "a rate, weight or share")]
"""Weights, shares, exchange rates, per-kilometre rates and AQLs."""

Measurement = Annotated[Decimal, MEASUREMENT, _shown(MEASUREMENT, "a measured value")]
"""Nominal values, tolerances, measured values and areas."""


def shape_of(metadata: tuple[Any, ...]) -> DecimalShape | None:
    """The decimal shape among an ``Annotated`` type's metadata, if it has one."""
    return next((m for m in metadata if isinstance(m, DecimalShape)), None)
