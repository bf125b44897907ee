"""What clients send to pooling, with the bounds each field keeps to (a 400 or 422 names the field)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated
from uuid import UUID

import msgspec

from events.common import Money
from events.pooling import AllocationPolicy, ExchangeRate, Packages
from shared.bounds import Amount, Count, Currency, Quantity, Rate, Version, documented
from shared.kernel.errors import FieldError, InvalidInput

DEFAULT_EXPIRY = 48 * 3600


# --- pools ---


class OpenPoolBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    hs_code: Annotated[str, msgspec.Meta(pattern=r"^\d{4,10}$", max_length=10, description="HS code, 4 to 10 digits")]
    standard_id: UUID
    standard_version: Version
    unit: Annotated[
        str, msgspec.Meta(pattern=r"^[A-Z0-9]{1,8}$", max_length=8, description="UN/ECE unit code, e.g. PCE")
    ]
    currency: Currency
    consolidation_point: Annotated[
        str, msgspec.Meta(min_length=2, max_length=100, description="a port (UN/LOCODE or name) or city")
    ]
    required_by: date | None = None
    inspector_orgs: Annotated[
        list[Annotated[str, msgspec.Meta(min_length=1, max_length=100), documented(max_length=100)]],
        msgspec.Meta(max_length=20, description="third-party inspection organisations whose verdicts count"),
    ] = []


class AddDemandBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    order_id: UUID
    line_id: UUID


class LotBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A delivered lot; ``plot_ids`` are the MSME's plots its goods came from (by default every active plot of
    the MSME for the pool's EUDR commodity)."""

    msme_id: UUID
    product_id: UUID | None = None
    quantity: Quantity
    lot_code: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    delivered_on: date
    plot_ids: Annotated[list[UUID], msgspec.Meta(max_length=1_000)] | None = None


class MoneyBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    amount: Amount
    currency: Currency


class PackagesBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    count: Count
    kind: Annotated[
        str, msgspec.Meta(pattern=r"^[A-Z0-9]{2}$", max_length=2, description="UN/ECE Rec. 21 code: BG, CT, BX, PX…")
    ]


class ShipBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Ship what passed inspection. ``packages`` (by kind), ``freight`` and ``insurance`` (in the pool's currency,
    as paid for this consignment) are optional; the export declaration (PEB) uses them when given."""

    partial: bool = False
    consent_reference: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None
    packages: Annotated[list[PackagesBody], msgspec.Meta(max_length=20)] | None = None
    freight: MoneyBody | None = None
    insurance: MoneyBody | None = None

    def costs(self) -> tuple[tuple[Packages, ...] | None, Money | None, Money | None]:
        """The packages, freight and insurance stated, refusing (422) a negative cost or a kind named twice."""
        errors = [
            FieldError(f"{name}.amount", "must not be negative")
            for name in ("freight", "insurance")
            if (cost := getattr(self, name)) is not None and cost.amount < 0
        ]
        kinds = [p.kind for p in self.packages or []]
        errors += [FieldError(f"packages[{i}].kind", "is named twice") for i, k in enumerate(kinds) if k in kinds[:i]]
        if errors:
            raise InvalidInput(errors)
        packages = None if self.packages is None else tuple(Packages(count=p.count, kind=p.kind) for p in self.packages)
        freight, insurance = (None if m is None else Money(amount=m.amount, currency=m.currency)
                              for m in (self.freight, self.insurance))  # fmt: skip
        return packages, freight, insurance


# --- allocation ---


class WeightsBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    price: Rate = Decimal(1)
    quality: Rate = Decimal(1)
    logistics: Rate = Decimal(1)
    handling: Rate = Decimal(1)


class AllocateBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The aggregator's rules for this run; money in the pool's currency. ``required_certifications`` (kinds such
    as ``halal``, ``bpom``, ``svlk``) must be valid through each candidate's delivery month and cover its product;
    ``require_halal_for_food`` adds halal when the pool's goods are food (HS chapters 01–24)."""

    weights: WeightsBody = WeightsBody()
    max_share: Rate | None = None
    min_msmes: Annotated[int, msgspec.Meta(ge=1, le=10_000)] | None = None
    required_certifications: Annotated[
        list[Annotated[str, msgspec.Meta(min_length=1, max_length=40), documented(max_length=40)]],
        msgspec.Meta(max_length=20),
    ] = []
    require_halal_for_food: bool = False
    allow_probation: bool = False
    exchange_rates: Annotated[dict[Currency, Rate], msgspec.Meta(max_length=50)] = {}
    rejection_penalty_per_unit: Amount = Decimal(0)
    logistics_rate_per_unit_km: Rate = Decimal(0)
    handling_cost_per_msme: Amount = Decimal(0)
    time_limit_s: Annotated[float, msgspec.Meta(gt=0, le=120)] = 10.0
    mip_gap: Annotated[float, msgspec.Meta(ge=0, le=1)] = 0.01
    send: bool = False
    expires_in: Annotated[int, msgspec.Meta(ge=1, le=90 * 86400, description="seconds")] = DEFAULT_EXPIRY


class ApproveBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    expires_in: Annotated[int, msgspec.Meta(ge=1, le=90 * 86400, description="seconds")] | None = None


def policy_of(body: AllocateBody) -> AllocationPolicy:
    """The body's rules, refusing (422) every negative weight or cost, share outside (0, 1] or rate ≤ 0."""
    errors: list[FieldError] = []
    for name in ("price", "quality", "logistics", "handling"):
        if getattr(body.weights, name) < 0:
            errors.append(FieldError(f"weights.{name}", "must not be negative"))
    for name in ("rejection_penalty_per_unit", "logistics_rate_per_unit_km", "handling_cost_per_msme"):
        if getattr(body, name) < 0:
            errors.append(FieldError(name, "must not be negative"))
    if body.max_share is not None and not 0 < body.max_share <= 1:
        errors.append(FieldError("max_share", "must be more than 0 and at most 1"))
    errors += [FieldError(f"exchange_rates.{c}", "must be positive") for c, r in body.exchange_rates.items() if r <= 0]
    if errors:
        raise InvalidInput(errors)
    return AllocationPolicy(
        price_weight=body.weights.price,
        quality_weight=body.weights.quality,
        logistics_weight=body.weights.logistics,
        handling_weight=body.weights.handling,
        max_share=body.max_share,
        min_msmes=body.min_msmes,
        required_certifications=sorted(set(body.required_certifications)),
        require_halal_for_food=body.require_halal_for_food,
        allow_probation=body.allow_probation,
        exchange_rates=[ExchangeRate(currency=c, rate=r) for c, r in sorted(body.exchange_rates.items())],
        rejection_penalty_per_unit=body.rejection_penalty_per_unit,
        logistics_rate_per_unit_km=body.logistics_rate_per_unit_km,
        handling_cost_per_msme=body.handling_cost_per_msme,
        time_limit_s=body.time_limit_s,
        mip_gap=body.mip_gap,
        expires_in_s=body.expires_in,
    )


# --- allocation requests ---


class AcceptBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Accept all (no quantity) or part of the request; a part keeps the earliest months of the plan."""

    quantity: Quantity | None = None


class DeclineBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


# --- exporter profiles ---


class ExporterProfileBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The aggregator as customs knows it: registered name, NIB (13 digits), NPWP (15 or 16 digits; dots and dashes
    allowed) and address."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    nib: Annotated[str, msgspec.Meta(min_length=1, max_length=20, description="NIB, 13 digits")]
    npwp: Annotated[str, msgspec.Meta(min_length=1, max_length=25, description="NPWP, 15 or 16 digits")]
    address: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
