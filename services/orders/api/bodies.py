"""Request bodies of the orders API; the platform reports every field that breaks these constraints (422)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

import msgspec

from events.common import Money
from events.orders import Contact, Incoterm, OrderLine, QuotedLine
from shared.bounds import Amount, Currency, Quantity, Version, documented
from shared.published_standards import StandardUse

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
HsCode = Annotated[
    str, msgspec.Meta(pattern=r"^\d{6,10}$", max_length=10, description="Harmonized System code, 6 to 10 digits")
]
UnitCode = Annotated[
    str, msgspec.Meta(pattern=r"^[A-Z0-9]{2,3}$", max_length=3, description="UN/ECE Recommendation 20 unit code")
]
CountryCode = Annotated[
    str, msgspec.Meta(pattern=r"^[A-Z]{2}$", max_length=2, description="ISO 3166-1 alpha-2 country code")
]
Locode = Annotated[
    str, msgspec.Meta(pattern=r"^[A-Z]{2}[A-Z2-9]{3}$", max_length=5, description="UN/LOCODE, e.g. NLRTM")
]
AttributeName = Annotated[str, msgspec.Meta(min_length=1, max_length=60)]
AttributeValue = Annotated[str, msgspec.Meta(max_length=500), documented(max_length=500)]
Email = Annotated[str, msgspec.Meta(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]
Phone = Annotated[str, msgspec.Meta(pattern=r"^\+?[0-9 ()-]{6,24}$", max_length=25)]
Instant = Annotated[datetime, msgspec.Meta(tz=True, description="RFC 3339 time with its offset")]


class Price(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Money as JSON: ``{"amount": "12.50", "currency": "USD"}``."""

    amount: Amount
    currency: Currency

    def money(self) -> Money:
        return Money(amount=self.amount, currency=self.currency)


class OrderLineIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    hs_code: HsCode
    category: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    description: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]
    attributes: Annotated[dict[AttributeName, AttributeValue], msgspec.Meta(max_length=50)] = msgspec.field(
        default_factory=dict
    )
    standard_id: UUID
    standard_version: Version
    quantity: Quantity
    unit: UnitCode
    target_unit_price: Price

    def line(self, line_id: UUID) -> OrderLine:
        return OrderLine(
            line_id=line_id,
            hs_code=self.hs_code,
            category=self.category,
            description=self.description,
            attributes=dict(self.attributes),
            standard_id=self.standard_id,
            standard_version=self.standard_version,
            quantity=self.quantity,
            unit=self.unit,
            target_unit_price=self.target_unit_price.money(),
        )


class OrderIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A bulk order to request quotes for."""

    lines: Annotated[list[OrderLineIn], msgspec.Meta(max_length=200)]
    incoterm: Incoterm
    destination_country: CountryCode
    destination_port: Locode | None = None
    loading_port: Locode | None = None
    required_by: date
    notes: Annotated[str, msgspec.Meta(max_length=2000)] = ""

    def standards(self) -> list[StandardUse]:
        """The standard each line names, with the fields that name it."""
        return [
            StandardUse(
                line.standard_id, line.standard_version, f"lines[{i}].standard_id", f"lines[{i}].standard_version"
            )
            for i, line in enumerate(self.lines)
        ]


class QuotedLineIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    line_id: UUID
    unit_price: Price

    def quoted(self) -> QuotedLine:
        return QuotedLine(line_id=self.line_id, unit_price=self.unit_price.money())


class QuoteIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An aggregator's quote: a unit price for every line, a lead time and how long the quote holds."""

    lines: Annotated[list[QuotedLineIn], msgspec.Meta(max_length=200)]
    lead_time_days: Annotated[int, msgspec.Meta(ge=1, le=730)]
    valid_until: Instant


class CancelIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]


class ContactIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: Text
    email: Email
    phone: Phone | None = None
    title: Annotated[str, msgspec.Meta(max_length=100)] | None = None

    def contact(self) -> Contact:
        return Contact(name=self.name, email=self.email, phone=self.phone, title=self.title)


class BuyerIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A buyer organisation; ``org`` defaults to the caller's organisation (only an admin may name another)."""

    name: Text
    country: CountryCode
    contacts: Annotated[list[ContactIn], msgspec.Meta(max_length=20)]
    org: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | None = None
