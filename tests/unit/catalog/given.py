"""Given/when/then helpers and sample commands for the catalog's deciders."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from events.catalog import Contact, MsmeRegistered
from events.common import Money, PriceTier
from services.catalog.domain.msme import MSME, MsmeCommand, MsmeEvent, RegisterMsme
from services.catalog.domain.product import PRODUCT, ListProduct, ProductCommand, ProductEvent, ProductSpec
from tests.support.given import then

NOW = datetime(2026, 10, 15, 9, 30, tzinfo=UTC)
MSME_ID = UUID("01890000-0000-7000-8000-000000000001")
PRODUCT_ID = UUID("01890000-0000-7000-8000-000000000002")
OTHER_PRODUCT_ID = UUID("01890000-0000-7000-8000-000000000003")


def register(**overrides: Any) -> RegisterMsme:
    values: dict[str, Any] = {
        "msme_id": MSME_ID,
        "org": "cirebon-weavers",
        "name": "Rotan Cirebon Jaya",
        "nib": "9120001234567",
        "province": "Jawa Barat",
        "city": "Cirebon",
        "contact": Contact(name="Siti Aminah", phone="+62 231 555 0101"),
        "size_class": "small",
        "registered_by": "cirebon-weavers",
        "at": NOW,
    }
    values.update(overrides)
    return RegisterMsme(**values)


def registered(**overrides: Any) -> MsmeRegistered:
    event = then(MSME, [], register(**overrides))[0]
    assert isinstance(event, MsmeRegistered)
    return event


def usd(amount: str, currency: str = "USD") -> Money:
    return Money(amount=Decimal(amount), currency=currency)


def spec(**overrides: Any) -> ProductSpec:
    values: dict[str, Any] = {
        "sku": "RB-40",
        "name": "Rattan storage basket 40 cm",
        "description": "Hand-woven natural rattan",
        "hs_code": "4602.12.10",
        "category": "baskets",
        "unit": "PCE",
        "moq": 100,
        "price_tiers": [PriceTier(min_quantity=100, unit_price=usd("6.50"))],
        "lead_time_days": 30,
    }
    values.update(overrides)
    return ProductSpec(**values)


def listing(**overrides: Any) -> ListProduct:
    return ListProduct(product_id=PRODUCT_ID, msme_id=MSME_ID, org="cirebon-weavers", spec=spec(**overrides), at=NOW)


def listed(**overrides: Any) -> list[ProductEvent]:
    return then(PRODUCT, [], listing(**overrides))


__all__ = ["MsmeCommand", "MsmeEvent", "ProductCommand"]
