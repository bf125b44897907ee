"""Turning what pooling knows about MSMEs (from catalog, quality and its own ledgers) into engine candidates.

Pure. A product is a candidate for a pool when its HS code and unit are the pool's and it is produced to
the pool's standard version. Its capacity counts from this month to the month of the pool's required-by
less the product's lead time. A certification counts when valid from today through the required-by date.
An MSME with no quality record is on probation with the prior score the quality service uses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from uuid import UUID

from services.pooling.domain.allocation import Candidate, PriceTier
from shared.kernel.geography import distance_km
from shared.kernel.months import month_of, months_from

PRIOR_SCORE = 0.5


@dataclass(frozen=True, slots=True)
class Offering:
    """A catalog product of an MSME, with the MSME's place and status."""

    product_id: UUID
    msme_id: UUID
    msme_name: str
    city: str
    suspended: bool
    moq: int
    price_tiers: tuple[tuple[int, Decimal], ...]
    currency: str
    lead_time_days: int


@dataclass(frozen=True, slots=True)
class QualityRecord:
    qualified: bool
    disqualified: bool
    probation_allowed: bool
    severity: str
    discontinued: bool
    score: float


@dataclass(frozen=True, slots=True)
class Certificate:
    kind: str
    valid_from: date
    valid_until: date


def window(today: date, required_by: date, lead_time_days: int) -> list[str]:
    """The months in which a product must be made to be ready by ``required_by``."""
    return months_from(month_of(today), month_of(required_by - timedelta(days=lead_time_days)))


def valid_certifications(certificates: Sequence[Certificate], today: date, required_by: date) -> frozenset[str]:
    return frozenset(c.kind for c in certificates if c.valid_from <= today and c.valid_until >= required_by)


def distance(city: str, consolidation_point: str) -> float:
    """Great-circle km; 0 when a place is not in the gazetteer (no logistics cost can be told)."""
    try:
        return distance_km(city, consolidation_point)
    except KeyError:
        return 0.0


def candidate(
    offering: Offering,
    quality: QualityRecord | None,
    certificates: Sequence[Certificate],
    available: Mapping[str, int],
    *,
    today: date,
    required_by: date,
    consolidation_point: str,
) -> Candidate:
    """One engine candidate; ``available`` is free capacity by month from the ledger."""
    months = window(today, required_by, offering.lead_time_days)
    monthly = tuple((m, max(available.get(m, 0), 0)) for m in months if available.get(m, 0) > 0)
    if quality is None:
        qualified, on_probation, severity, discontinued, score = False, True, "normal", False, PRIOR_SCORE
    else:
        qualified = quality.qualified
        on_probation = not quality.qualified and not quality.disqualified and quality.probation_allowed
        severity, discontinued, score = quality.severity, quality.discontinued, quality.score
    return Candidate(
        msme_id=offering.msme_id,
        product_id=offering.product_id,
        msme_name=offering.msme_name,
        city=offering.city,
        monthly_capacity=monthly,
        moq=offering.moq,
        price_tiers=tuple(PriceTier(q, price) for q, price in offering.price_tiers),
        currency=offering.currency,
        quality_score=score,
        severity=severity,
        qualified=qualified,
        on_probation=on_probation,
        suspended=offering.suspended,
        discontinued=discontinued,
        certifications=valid_certifications(certificates, today, required_by),
        distance_km=distance(offering.city, consolidation_point),
    )
