"""Value types shared by the events of several services."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import msgspec

CurrencyCode = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{3}$", description="ISO 4217 currency code")]


class Money(msgspec.Struct, frozen=True, kw_only=True):
    """An amount in a currency; the amount travels as a decimal string."""

    amount: Decimal
    currency: CurrencyCode


class PriceTier(msgspec.Struct, frozen=True, kw_only=True):
    """From ``min_quantity`` units up, every unit costs ``unit_price`` (the tier applies to all units)."""

    min_quantity: int
    unit_price: Money
