"""What clients send to the catalog API (JSON, snake_case; money amounts as decimal strings), and what each means
to the domain."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType

from events.catalog import (
    CertificationKind,
    CertificationScope,
    Contact,
    DeforestationFreeEvidence,
    HarvestPeriod,
    MsmeStatus,
    OriginPlot,
    PlotGeometry,
    SizeClass,
    StandardRef,
    TreeSpecies,
)
from events.common import Money, PriceTier
from services.catalog.domain.msme import AddCertification, MsmeChanges, RegisterMsme, UpdateMsme
from services.catalog.domain.plot import PlotSpec
from services.catalog.domain.product import ProductChanges, ProductSpec
from shared.bounds import Amount, Count, Currency, Measurement, Month, Quantity, Version, documented

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Place = Annotated[str, msgspec.Meta(min_length=1, max_length=60)]
Org = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class ContactBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=120)]
    phone: Annotated[str, msgspec.Meta(max_length=30)] | None = None
    email: Annotated[str, msgspec.Meta(max_length=254)] | None = None

    def contact(self) -> Contact:
        return Contact(name=self.name, phone=self.phone, email=self.email)


class RegisterMsmeBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A producer joining the catalog. ``org`` (the owning organisation) is required when an aggregator or an
    admin registers on an MSME's behalf; an MSME user registers for its own organisation."""

    name: Text
    nib: Annotated[str, msgspec.Meta(min_length=1, max_length=20, description="NIB, 13 digits")]
    province: Place
    city: Place
    contact: ContactBody
    size_class: SizeClass
    org: Org | None = None

    def command(self, msme_id: UUID, org: str, registered_by: str, at: datetime) -> RegisterMsme:
        return RegisterMsme(
            msme_id=msme_id,
            org=org,
            name=self.name,
            nib=self.nib,
            province=self.province,
            city=self.city,
            contact=self.contact.contact(),
            size_class=self.size_class,
            registered_by=registered_by,
            at=at,
        )


class MsmePatch(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Fields to change; absent fields stay. ``status`` is for admins and aggregators."""

    name: Text | UnsetType = UNSET
    province: Place | UnsetType = UNSET
    city: Place | UnsetType = UNSET
    contact: ContactBody | UnsetType = UNSET
    size_class: SizeClass | UnsetType = UNSET
    status: MsmeStatus | UnsetType = UNSET
    status_reason: Annotated[str, msgspec.Meta(max_length=500)] | UnsetType = UNSET

    def command(self, at: datetime) -> UpdateMsme:
        return UpdateMsme(changes=self.changes(), status_reason=_given(self.status_reason), at=at)

    def changes(self) -> MsmeChanges:
        return MsmeChanges(
            name=_given(self.name),
            province=_given(self.province),
            city=_given(self.city),
            contact=self.contact.contact() if self.contact is not UNSET else None,
            size_class=_given(self.size_class),
            status=_given(self.status),
        )


def _given(value: Any) -> Any:
    return None if value is UNSET else value


HsPrefix = Annotated[
    str, msgspec.Meta(pattern=r"^[0-9.]{2,13}$", max_length=13, description="HS code prefix"), documented(max_length=13)
]


class CertificationScopeBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The products a certificate covers: the MSME's products named, and any whose HS code starts with a prefix."""

    product_ids: Annotated[list[UUID], msgspec.Meta(max_length=500)] = []
    hs_prefixes: Annotated[list[HsPrefix], msgspec.Meta(max_length=50)] = []


class CertificationBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A certificate; ``name`` is required for kind ``other`` (e.g. "Rainforest Alliance"). Without ``scope`` it
    covers all of the MSME's products."""

    kind: CertificationKind
    number: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    issuer: Text
    valid_from: date
    valid_until: date
    name: Text | None = None
    scope: CertificationScopeBody | None = None

    def command(self, certification_id: UUID, at: datetime) -> AddCertification:
        return AddCertification(
            certification_id=certification_id,
            kind=self.kind,
            name=self.name,
            number=self.number,
            issuer=self.issuer,
            valid_from=self.valid_from,
            valid_until=self.valid_until,
            scope=None
            if self.scope is None
            else CertificationScope(product_ids=self.scope.product_ids, hs_prefixes=self.scope.hs_prefixes),
            at=at,
        )


class MoneyBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    amount: Amount
    currency: Currency


class PriceTierBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    min_quantity: Quantity
    unit_price: MoneyBody

    def tier(self) -> PriceTier:
        return PriceTier(min_quantity=self.min_quantity, unit_price=Money(**msgspec.structs.asdict(self.unit_price)))


class StandardBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    standard_id: UUID
    version: Version

    def ref(self) -> StandardRef:
        return StandardRef(standard_id=self.standard_id, version=self.version)


class OriginPlotBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    geometry: PlotGeometry
    area_hectares: Measurement
    name: Annotated[str, msgspec.Meta(max_length=200)] | None = None

    def plot(self) -> OriginPlot:
        return OriginPlot(geometry=self.geometry, area_hectares=self.area_hectares, name=self.name)


# Plain lists (their lengths are checked by the domain), so every bad item is reported with its path.
Tiers = list[PriceTierBody]
Standards = list[StandardBody]
Plots = list[OriginPlotBody]
Sku = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Description = Annotated[str, msgspec.Meta(max_length=5000)]
HsCode = Annotated[str, msgspec.Meta(min_length=1, max_length=16)]
Category = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
Unit = Annotated[str, msgspec.Meta(min_length=1, max_length=3)]
Moq = Quantity
# ``kind``, or ``other:<name>`` for another scheme (names are at most 200 characters)
CertificationKey = Annotated[str, msgspec.Meta(max_length=210), documented(max_length=210)]
LeadTime = Annotated[int, msgspec.Meta(ge=0, le=365), documented(minimum=0, maximum=365)]


class ProductBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A product: HS code of 6–10 digits (dots allowed), UN/ECE Rec 20 unit, price tiers in one currency."""

    sku: Sku
    name: Text
    hs_code: HsCode
    category: Category
    unit: Unit
    moq: Moq
    price_tiers: Tiers
    lead_time_days: LeadTime
    description: Description = ""
    standards: Standards = msgspec.field(default_factory=list)
    origin_plots: Plots = msgspec.field(default_factory=list)
    net_mass_kg: Measurement | None = None

    def spec(self) -> ProductSpec:
        return ProductSpec(
            sku=self.sku,
            name=self.name,
            description=self.description,
            hs_code=self.hs_code,
            category=self.category,
            unit=self.unit,
            moq=self.moq,
            price_tiers=[t.tier() for t in self.price_tiers],
            lead_time_days=self.lead_time_days,
            standards=[s.ref() for s in self.standards],
            origin_plots=[p.plot() for p in self.origin_plots],
            net_mass_kg=self.net_mass_kg,
        )


class ProductPatch(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Fields to change; absent fields stay; a list given replaces the whole list."""

    sku: Sku | UnsetType = UNSET
    name: Text | UnsetType = UNSET
    hs_code: HsCode | UnsetType = UNSET
    category: Category | UnsetType = UNSET
    unit: Unit | UnsetType = UNSET
    moq: Moq | UnsetType = UNSET
    price_tiers: Tiers | UnsetType = UNSET
    lead_time_days: LeadTime | UnsetType = UNSET
    description: Description | UnsetType = UNSET
    standards: Standards | UnsetType = UNSET
    origin_plots: Plots | UnsetType = UNSET
    net_mass_kg: Measurement | UnsetType = UNSET

    def changes(self) -> ProductChanges:
        given = {f: getattr(self, f) for f in self.__struct_fields__ if getattr(self, f) is not UNSET}
        if "price_tiers" in given:
            given["price_tiers"] = [t.tier() for t in self.price_tiers or []]
        if "standards" in given:
            given["standards"] = [s.ref() for s in self.standards or []]
        if "origin_plots" in given:
            given["origin_plots"] = [p.plot() for p in self.origin_plots or []]
        return ProductChanges(**given)


class CapacityBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Units per future month, e.g. ``{"months": {"2027-02": 300, "2027-03": 300}}``."""

    months: Annotated[dict[Month, Count], msgspec.Meta(min_length=1, max_length=36)]


class HarvestBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    start: date
    end: date


class EvidenceBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A document showing the plot was not deforested after 31 Dec 2020, and the day it speaks for."""

    document_reference: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    as_of: date

    def evidence(self) -> DeforestationFreeEvidence:
        return DeforestationFreeEvidence(document_reference=self.document_reference, as_of=self.as_of)


class SpeciesBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    scientific_name: Text
    common_name: Text


class PlotBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A production place: GeoJSON ``Point`` (≤ 4 ha, with ``area_hectares``) or ``Polygon`` (area measured),
    positions ``[longitude, latitude]`` in WGS 84 with at most 6 decimals; ``country`` ISO 3166-1 alpha-2;
    ``region`` the province in Indonesia; ``commodity`` an EUDR Annex I commodity key."""

    name: Text
    geometry: PlotGeometry
    country: Annotated[str, msgspec.Meta(min_length=2, max_length=2)]
    region: Place
    commodity: Annotated[str, msgspec.Meta(min_length=1, max_length=20)]
    area_hectares: Measurement | None = None
    harvest: HarvestBody | None = None
    evidence: EvidenceBody | None = None
    species: Annotated[list[SpeciesBody], msgspec.Meta(max_length=20)] = msgspec.field(default_factory=list)

    def spec(self) -> PlotSpec:
        return PlotSpec(
            name=self.name,
            geometry=self.geometry,
            country=self.country,
            region=self.region,
            commodity=self.commodity,
            area_hectares=self.area_hectares,
            harvest=HarvestPeriod(start=self.harvest.start, end=self.harvest.end) if self.harvest else None,
            evidence=self.evidence.evidence() if self.evidence else None,
            species=[TreeSpecies(scientific_name=s.scientific_name, common_name=s.common_name) for s in self.species],
        )


class WithdrawPlotBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
