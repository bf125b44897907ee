"""What the catalog API shows: MSME profiles and products, from command results or from the read models."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec

from events.catalog import CertificationScope, Contact, OriginPlot, StandardRef
from events.common import PriceTier
from services.catalog.commands import is_owner
from services.catalog.domain.msme import Msme
from shared.auth import Principal, Role
from shared.kernel.geography import City


class CertificationView(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    kind: str
    name: str
    number: str
    issuer: str
    valid_from: date
    valid_until: date
    valid: bool
    scope: CertificationScope | None = None
    """The products it covers (by id or HS-code prefix); null when it covers all of the MSME's products."""


class MsmeView(msgspec.Struct, frozen=True, kw_only=True):
    """An MSME's profile; ``contact`` is shown to its owner, aggregators and admins only."""

    id: UUID
    org: str
    name: str
    nib: str
    province: str
    city: str
    contact: Contact | None
    size_class: str
    status: str
    certifications: list[CertificationView]
    product_count: int
    version: int
    position: int = 0


class MsmeSummary(msgspec.Struct, frozen=True, kw_only=True):
    """An MSME in a list: who owns it, who registered it, where it is and whether it may be allocated."""

    id: UUID
    org: str
    registered_by: str
    name: str
    nib: str
    province: str
    city: str
    size_class: str
    status: str
    registered_at: datetime


class CapacityMonth(msgspec.Struct, frozen=True, kw_only=True):
    month: str
    declared: int
    committed: int
    available: int


class ProductView(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    msme_id: UUID
    org: str
    msme_name: str
    province: str
    city: str
    sku: str
    name: str
    description: str
    hs_code: str
    category: str
    unit: str
    moq: int
    price_tiers: list[PriceTier]
    currency: str
    lead_time_days: int
    standards: list[StandardRef]
    origin_plots: list[OriginPlot]
    eudr_commodity: str | None
    capacity: list[CapacityMonth]
    net_mass_kg: Decimal | None = None
    version: int
    position: int = 0


class ProductSummary(msgspec.Struct, frozen=True, kw_only=True):
    """A search hit; ``available`` is the free capacity in the searched months when that filter is used."""

    id: UUID
    msme_id: UUID
    msme_name: str
    province: str
    city: str
    sku: str
    name: str
    hs_code: str
    category: str
    unit: str
    moq: int
    price_tiers: list[PriceTier]
    currency: str
    lead_time_days: int
    standards: list[StandardRef]
    eudr_commodity: str | None
    available: int | None = None


_tiers = msgspec.json.Decoder(list[PriceTier])
_standards = msgspec.json.Decoder(list[StandardRef])
_plots = msgspec.json.Decoder(list[OriginPlot])
_contact = msgspec.json.Decoder(Contact)


def sees_contact(principal: Principal, org: str) -> bool:
    """Contacts are personal data: the owner, aggregators and admins see them; buyers and inspectors do not."""
    return is_owner(principal, org) or principal.role is Role.AGGREGATOR


def msme_from_state(state: Msme, *, today: date, principal: Principal, version: int, position: int = 0) -> MsmeView:
    assert state.msme_id is not None
    held = [
        CertificationView(
            id=c.certification_id,
            kind=c.kind,
            name=c.name,
            number=c.number,
            issuer=c.issuer,
            valid_from=c.valid_from,
            valid_until=c.valid_until,
            valid=c.valid_on(today),
            scope=c.scope,
        )
        for c in state.certifications
    ]
    return MsmeView(
        id=state.msme_id,
        org=state.org,
        name=state.name,
        nib=state.nib,
        province=state.province,
        city=state.city,
        contact=state.contact if sees_contact(principal, state.org) else None,
        size_class=state.size_class,
        status=state.status,
        certifications=held,
        product_count=len(state.skus),
        version=version,
        position=position,
    )


def capacity_month(month: str, declared: int, committed: int) -> CapacityMonth:
    return CapacityMonth(month=month, declared=declared, committed=committed, available=max(declared - committed, 0))


def product_from_row(row: Mapping[str, Any], months: Sequence[CapacityMonth]) -> ProductView:
    return ProductView(
        id=row["id"],
        msme_id=row["msme_id"],
        org=row["org"],
        msme_name=row["msme_name"],
        province=row["province"],
        city=row["city"],
        sku=row["sku"],
        name=row["name"],
        description=row["description"],
        hs_code=row["hs_code"],
        category=row["category"],
        unit=row["unit"],
        moq=row["moq"],
        price_tiers=_tiers.decode(row["price_tiers"]),
        currency=row["currency"],
        lead_time_days=row["lead_time_days"],
        standards=_standards.decode(row["standard_refs"]),
        origin_plots=_plots.decode(row["origin_plots"]),
        eudr_commodity=row["eudr_commodity"],
        capacity=list(months),
        net_mass_kg=row["net_mass_kg"],
        version=row["version"],
    )


def summary_from_row(row: Mapping[str, Any]) -> ProductSummary:
    return ProductSummary(
        id=row["id"],
        msme_id=row["msme_id"],
        msme_name=row["msme_name"],
        province=row["province"],
        city=row["city"],
        sku=row["sku"],
        name=row["name"],
        hs_code=row["hs_code"],
        category=row["category"],
        unit=row["unit"],
        moq=row["moq"],
        price_tiers=_tiers.decode(row["price_tiers"]),
        currency=row["currency"],
        lead_time_days=row["lead_time_days"],
        standards=_standards.decode(row["standard_refs"]),
        eudr_commodity=row["eudr_commodity"],
        available=row.get("available"),
    )


class Region(msgspec.Struct, frozen=True, kw_only=True):
    """A regency or city: ``name`` is what Gotong stores as an MSME's city, ``regency`` its official name."""

    code: str
    name: str
    regency: str
    province: str
    latitude: float
    longitude: float


def region_from_city(city: City) -> Region:
    return Region(
        code=city.code,
        name=city.name,
        regency=city.regency,
        province=city.province,
        latitude=city.latitude,
        longitude=city.longitude,
    )
