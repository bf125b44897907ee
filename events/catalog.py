"""Catalog's events: MSMEs, their certifications, their products and declared monthly capacity.

Streams: ``msme-<msme_id>`` (registration, updates, certifications, the SKUs it uses),
``product-<product_id>`` (listing, updates, capacity) and ``nib-<nib>`` (one MSME per business number).
Events other services rely on carry full state, so a consumer needs no history:

- ``MsmeRegistered`` / ``MsmeUpdated``: the owning organisation (the ``org`` claim of the MSME's users), name,
  NIB, province, city, contact, size class and status (``active`` or ``suspended``; suspension and
  reinstatement are an ``MsmeUpdated`` whose ``changed`` names ``status``).
- ``CertificationAdded``: MSME, kind, number, issuer, validity dates and scope (the products it covers, by id or
  HS-code prefix; none means all of the MSME's products); it counts on a day ``valid_from <= day <= valid_until``,
  so an expired certification stops counting without any event.
- ``CertificationExpiring``: 30 and 7 days before a certificate's last valid day, once each, with the MSME's
  owning organisation and the organisation that registered it, so they can be told.
- ``ProductListed`` / ``ProductUpdated``: the whole product, its price tiers in one currency, the standards it
  is produced to as ``{standard_id, version}`` pairs (the quality service's versioned standards), and any
  origin plots (GeoJSON ``Point`` or ``Polygon`` with the plot's area in hectares).
- ``CapacityDeclared``: one event per declared month with the month's full declared units (not a delta).
- ``PlotRegistered`` / ``PlotWithdrawn`` (stream ``plot-<plot_id>``): a production place of an MSME with its whole
  description (geometry, area, country, region, commodity, harvest period, deforestation-free evidence); lots name
  the plots their goods came from. Products' inline ``origin_plots`` are the older form, still read.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

import msgspec

from events.base import Event, EventCodec
from events.common import PriceTier

SizeClass = Literal["micro", "small", "medium"]
MsmeStatus = Literal["active", "suspended"]
CertificationKind = Literal["halal", "sni", "bpom", "svlk", "iso_9001", "organic", "fair_trade", "other"]


class Contact(msgspec.Struct, frozen=True, kw_only=True):
    """Who to reach at an MSME."""

    name: str
    phone: str | None = None
    email: str | None = None


class StandardRef(msgspec.Struct, frozen=True, kw_only=True):
    """A quality standard at one version, as the quality service publishes it."""

    standard_id: UUID
    version: int


class PointGeometry(msgspec.Struct, frozen=True, kw_only=True, tag_field="type", tag="Point"):
    """A GeoJSON Point: ``[longitude, latitude]`` in WGS 84."""

    coordinates: tuple[float, float]


class PolygonGeometry(msgspec.Struct, frozen=True, kw_only=True, tag_field="type", tag="Polygon"):
    """A GeoJSON Polygon: closed linear rings of ``[longitude, latitude]``, the first one the outer boundary."""

    coordinates: list[list[tuple[float, float]]]


PlotGeometry = PointGeometry | PolygonGeometry


class OriginPlot(msgspec.Struct, frozen=True, kw_only=True):
    """A plot of land a commodity comes from (EU deforestation regulation geolocation)."""

    geometry: PlotGeometry
    area_hectares: Decimal
    name: str | None = None


class HarvestPeriod(msgspec.Struct, frozen=True, kw_only=True):
    """When the commodity was harvested on a plot (both days included)."""

    start: date
    end: date


class DeforestationFreeEvidence(msgspec.Struct, frozen=True, kw_only=True):
    """A document showing the plot was not deforested after the cut-off (31 Dec 2020), and the day it speaks for."""

    document_reference: str
    as_of: date


class TreeSpecies(msgspec.Struct, frozen=True, kw_only=True):
    """A tree species a wood plot grows (EUDR: scientific and common name for wood)."""

    scientific_name: str
    common_name: str


AreaSource = Literal["declared", "geodesic"]


class PlotRegistered(Event, frozen=True, kw_only=True, tag="catalog.PlotRegistered.v1"):
    """A production place of an MSME. ``area_hectares`` is measured on the WGS 84 ellipsoid for a Polygon
    (``area_source`` ``geodesic``) and declared for a Point (at most 4 ha); ``registered_by`` is the acting org."""

    plot_id: UUID
    msme_id: UUID
    org: str
    name: str
    geometry: PlotGeometry
    area_hectares: Decimal
    area_source: AreaSource
    country: str
    region: str
    commodity: str
    harvest: HarvestPeriod | None = None
    evidence: DeforestationFreeEvidence | None = None
    species: list[TreeSpecies] = msgspec.field(default_factory=list)
    registered_by: str
    at: datetime


class PlotWithdrawn(Event, frozen=True, kw_only=True, tag="catalog.PlotWithdrawn.v1"):
    """The plot no longer supplies the MSME; lots already received keep naming it."""

    plot_id: UUID
    msme_id: UUID
    org: str
    reason: str
    withdrawn_by: str
    at: datetime


class MsmeRegistered(Event, frozen=True, kw_only=True, tag="catalog.MsmeRegistered.v1"):
    """A producer joined the catalog; ``registered_by`` is the organisation that onboarded it."""

    msme_id: UUID
    org: str
    name: str
    nib: str
    province: str
    city: str
    contact: Contact
    size_class: SizeClass
    status: MsmeStatus = "active"
    registered_by: str
    at: datetime


class MsmeUpdated(Event, frozen=True, kw_only=True, tag="catalog.MsmeUpdated.v1"):
    """The MSME's whole profile after a change; ``changed`` names the fields that changed."""

    msme_id: UUID
    org: str
    name: str
    nib: str
    province: str
    city: str
    contact: Contact
    size_class: SizeClass
    status: MsmeStatus
    changed: list[str]
    status_reason: str | None = None
    at: datetime


class NibClaimed(Event, frozen=True, kw_only=True, tag="catalog.NibClaimed.v1"):
    """A business number (NIB) now belongs to this MSME; no other MSME may register with it."""

    nib: str
    msme_id: UUID
    at: datetime


class CertificationScope(msgspec.Struct, frozen=True, kw_only=True):
    """The products a certificate covers: those named, and those whose HS code starts with one of the prefixes."""

    product_ids: list[UUID] = msgspec.field(default_factory=list)
    hs_prefixes: list[str] = msgspec.field(default_factory=list)

    def covers(self, product_id: UUID, hs_code: str) -> bool:
        return product_id in self.product_ids or any(hs_code.startswith(p) for p in self.hs_prefixes)


class CertificationAdded(Event, frozen=True, kw_only=True, tag="catalog.CertificationAdded.v1"):
    """A certificate the MSME holds; ``name`` is the scheme's name (given by the MSME for kind ``other``).
    ``scope`` ``None`` (as in events stored before scopes existed) covers all of the MSME's products."""

    certification_id: UUID
    msme_id: UUID
    kind: CertificationKind
    name: str
    number: str
    issuer: str
    valid_from: date
    valid_until: date
    scope: CertificationScope | None = None
    at: datetime


class CertificationExpiring(Event, frozen=True, kw_only=True, tag="catalog.CertificationExpiring.v1"):
    """A certificate's last valid day is near: sent once at each notice (``notice_days`` 30, then 7) unless the
    MSME holds a renewal by then. ``org`` owns the MSME; ``registered_by`` onboarded it (often its aggregator)."""

    certification_id: UUID
    msme_id: UUID
    kind: CertificationKind
    name: str
    number: str
    valid_until: date
    days_left: int
    notice_days: int
    org: str
    registered_by: str
    at: datetime


class SkuClaimed(Event, frozen=True, kw_only=True, tag="catalog.SkuClaimed.v1"):
    """An MSME's SKU now names this product (SKUs are unique per MSME, compared case-insensitively)."""

    msme_id: UUID
    product_id: UUID
    sku: str
    at: datetime


class SkuReleased(Event, frozen=True, kw_only=True, tag="catalog.SkuReleased.v1"):
    """A product stopped using this SKU (it was renamed), so it is free again."""

    msme_id: UUID
    product_id: UUID
    sku: str
    at: datetime


class ProductListed(Event, frozen=True, kw_only=True, tag="catalog.ProductListed.v1"):
    """An MSME listed a product it can make; ``org`` is the MSME's owning organisation."""

    product_id: UUID
    msme_id: UUID
    org: str
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
    origin_plots: list[OriginPlot] = msgspec.field(default_factory=list)
    eudr_commodity: str | None = None
    net_mass_kg: Decimal | None = None
    at: datetime


class ProductUpdated(Event, frozen=True, kw_only=True, tag="catalog.ProductUpdated.v1"):
    """The product's whole description after a change; ``changed`` names the fields that changed."""

    product_id: UUID
    msme_id: UUID
    org: str
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
    origin_plots: list[OriginPlot] = msgspec.field(default_factory=list)
    eudr_commodity: str | None = None
    net_mass_kg: Decimal | None = None
    changed: list[str]
    at: datetime


class CapacityDeclared(Event, frozen=True, kw_only=True, tag="catalog.CapacityDeclared.v1"):
    """The MSME can make ``units`` of the product in ``month`` (YYYY-MM); replaces any earlier declaration."""

    product_id: UUID
    msme_id: UUID
    month: str
    units: int
    at: datetime


CatalogEvent = (
    MsmeRegistered
    | MsmeUpdated
    | NibClaimed
    | CertificationAdded
    | CertificationExpiring
    | SkuClaimed
    | SkuReleased
    | ProductListed
    | ProductUpdated
    | CapacityDeclared
    | PlotRegistered
    | PlotWithdrawn
)
CODEC = EventCodec("catalog", CatalogEvent)
