"""The product aggregate: what an MSME makes, at what prices, to which standards, and its monthly capacity."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from uuid import UUID

import msgspec

from events.catalog import CapacityDeclared, OriginPlot, ProductListed, ProductUpdated, StandardRef
from events.common import PriceTier
from services.catalog.domain import rules
from shared.kernel.decider import Decider
from shared.kernel.errors import FieldError, InvalidInput, NotFound

ProductEvent = ProductListed | ProductUpdated | CapacityDeclared
MAX_LEAD_TIME_DAYS = 365
MAX_STANDARDS = 50
MAX_ORIGIN_PLOTS = 200


class ProductSpec(msgspec.Struct, frozen=True, kw_only=True):
    """Everything that describes a product; validated and normalised by ``checked_spec``."""

    sku: str
    name: str
    description: str = ""
    hs_code: str
    category: str
    unit: str
    moq: int
    price_tiers: list[PriceTier]
    lead_time_days: int
    standards: list[StandardRef] = msgspec.field(default_factory=list)
    origin_plots: list[OriginPlot] = msgspec.field(default_factory=list)
    net_mass_kg: Decimal | None = None


SPEC_FIELDS = tuple(f.name for f in msgspec.structs.fields(ProductSpec))


@dataclass(frozen=True)
class Product:
    product_id: UUID | None = None
    msme_id: UUID | None = None
    org: str = ""
    spec: ProductSpec | None = None
    capacity: dict[str, int] = field(default_factory=dict)  # month → declared units


class ListProduct(msgspec.Struct, frozen=True, kw_only=True):
    product_id: UUID
    msme_id: UUID
    org: str
    spec: ProductSpec
    at: datetime


class ProductChanges(msgspec.Struct, frozen=True, kw_only=True):
    """What an update changes; ``None`` leaves a field as it is."""

    sku: str | None = None
    name: str | None = None
    description: str | None = None
    hs_code: str | None = None
    category: str | None = None
    unit: str | None = None
    moq: int | None = None
    price_tiers: list[PriceTier] | None = None
    lead_time_days: int | None = None
    standards: list[StandardRef] | None = None
    origin_plots: list[OriginPlot] | None = None
    net_mass_kg: Decimal | None = None

    def applied_to(self, spec: ProductSpec) -> ProductSpec:
        given = {name: getattr(self, name) for name in SPEC_FIELDS if getattr(self, name) is not None}
        return msgspec.structs.replace(spec, **given)


class UpdateProduct(msgspec.Struct, frozen=True, kw_only=True):
    changes: ProductChanges
    at: datetime


class DeclareCapacity(msgspec.Struct, frozen=True, kw_only=True):
    """Units per month (YYYY-MM); ``at`` is now, and only months after the current one can be declared."""

    months: dict[str, int]
    at: datetime


ProductCommand = ListProduct | UpdateProduct | DeclareCapacity


def checked_spec(spec: ProductSpec) -> ProductSpec:
    """The spec normalised (HS code digits only, duplicate standards dropped) or every reason it is invalid."""
    errors: list[FieldError] = [
        *rules.sku_errors(spec.sku),
        *rules.hs_code_errors(spec.hs_code),
        *rules.category_errors(spec.category),
        *rules.unit_errors(spec.unit),
        *rules.price_tier_errors(spec.price_tiers, spec.moq),
    ]
    if not spec.name.strip():
        errors.append(FieldError("name", "must not be blank"))
    if spec.moq < 1:
        errors.append(FieldError("moq", "must be at least 1"))
    if not 0 <= spec.lead_time_days <= MAX_LEAD_TIME_DAYS:
        errors.append(FieldError("lead_time_days", f"must be between 0 and {MAX_LEAD_TIME_DAYS}"))
    if len(spec.standards) > MAX_STANDARDS:
        errors.append(FieldError("standards", f"may name at most {MAX_STANDARDS} standards"))
    if len(spec.origin_plots) > MAX_ORIGIN_PLOTS:
        errors.append(FieldError("origin_plots", f"may have at most {MAX_ORIGIN_PLOTS} plots"))
    versions: dict[UUID, int] = {}
    for index, standard in enumerate(spec.standards):
        if standard.version < 1:
            errors.append(FieldError(f"standards[{index}].version", "must be at least 1"))
        elif versions.setdefault(standard.standard_id, standard.version) != standard.version:
            errors.append(FieldError(f"standards[{index}]", "a product is produced to one version of a standard"))
    if spec.net_mass_kg is not None and (not spec.net_mass_kg.is_finite() or spec.net_mass_kg <= 0):
        errors.append(FieldError("net_mass_kg", "must be a positive mass in kilograms per unit"))
    for index, plot in enumerate(spec.origin_plots):
        errors.extend(rules.plot_errors(plot, f"origin_plots[{index}]"))
    if errors:
        raise InvalidInput(errors)
    standards = list({s.standard_id: s for s in spec.standards}.values())
    return msgspec.structs.replace(
        spec, name=spec.name.strip(), hs_code=rules.normalise_hs_code(spec.hs_code), standards=standards
    )


def _listed(product_id: UUID, msme_id: UUID, org: str, spec: ProductSpec, at: datetime) -> ProductListed:
    return ProductListed(
        product_id=product_id,
        msme_id=msme_id,
        org=org,
        sku=spec.sku,
        name=spec.name,
        description=spec.description,
        hs_code=spec.hs_code,
        category=spec.category,
        unit=spec.unit,
        moq=spec.moq,
        price_tiers=spec.price_tiers,
        currency=spec.price_tiers[0].unit_price.currency,
        lead_time_days=spec.lead_time_days,
        standards=spec.standards,
        origin_plots=spec.origin_plots,
        eudr_commodity=rules.eudr_commodity(spec.hs_code),
        net_mass_kg=spec.net_mass_kg,
        at=at,
    )


def _update(command: UpdateProduct, state: Product) -> list[ProductEvent]:
    assert state.spec is not None and state.product_id is not None and state.msme_id is not None
    spec = checked_spec(command.changes.applied_to(state.spec))
    changed = [name for name in SPEC_FIELDS if getattr(spec, name) != getattr(state.spec, name)]
    if not changed:
        return []
    listed = _listed(state.product_id, state.msme_id, state.org, spec, command.at)
    fields = msgspec.structs.asdict(listed)
    return [ProductUpdated(**fields, changed=changed)]


def _declare(command: DeclareCapacity, state: Product) -> list[ProductEvent]:
    errors = rules.capacity_errors(command.months, command.at)
    if errors:
        raise InvalidInput(errors)
    assert state.product_id is not None and state.msme_id is not None
    return [
        CapacityDeclared(product_id=state.product_id, msme_id=state.msme_id, month=month, units=units, at=command.at)
        for month, units in sorted(command.months.items())
        if state.capacity.get(month) != units
    ]


def decide(command: ProductCommand, state: Product) -> Sequence[ProductEvent]:
    if isinstance(command, ListProduct):
        if state.product_id is not None:
            return []  # listing is idempotent per product id
        spec = checked_spec(command.spec)
        return [_listed(command.product_id, command.msme_id, command.org, spec, command.at)]
    if state.spec is None:
        raise NotFound("no such product")
    match command:
        case UpdateProduct():
            return _update(command, state)
        case DeclareCapacity():
            return _declare(command, state)


def evolve(state: Product, event: ProductEvent) -> Product:
    match event:
        case ProductListed() | ProductUpdated():
            spec = ProductSpec(
                sku=event.sku,
                name=event.name,
                description=event.description,
                hs_code=event.hs_code,
                category=event.category,
                unit=event.unit,
                moq=event.moq,
                price_tiers=event.price_tiers,
                lead_time_days=event.lead_time_days,
                standards=event.standards,
                origin_plots=event.origin_plots,
                net_mass_kg=event.net_mass_kg,
            )
            return replace(state, product_id=event.product_id, msme_id=event.msme_id, org=event.org, spec=spec)
        case CapacityDeclared(month=month, units=units):
            return replace(state, capacity={**state.capacity, month: units})


PRODUCT = Decider[ProductCommand, Product, ProductEvent]("product", Product(), decide, evolve)


def product_stream(product_id: UUID) -> str:
    return f"product-{product_id}"
