"""Turning what pooling knows about MSMEs (from catalog, quality and its own ledgers) into engine candidates.

Pure. A product is a candidate for a pool when its HS code and unit are the pool's and it is produced to
the pool's standard version. Its capacity counts from this month to its delivery month: the month of the
pool's required-by less the product's lead time, the last month a plan may book. A certification counts
when it is valid from today through the last day of the delivery month (so every unit the plan may make is
made under it) and its scope covers the product; otherwise the candidate carries a note saying which
certificate falls short and why. An MSME with no quality record is on probation with the prior score the
quality service uses.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from uuid import UUID

from events.catalog import CertificationScope
from services.pooling.domain.allocation import Candidate, PriceTier
from shared.kernel.geography import distance_km
from shared.kernel.months import last_day_of, month_of, months_from

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
    hs_code: str = ""


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
    """A certificate of the MSME as catalog described it; ``scope`` None covers all of its products."""

    kind: str
    valid_from: date
    valid_until: date
    number: str = ""
    scope: CertificationScope | None = None

    def covers(self, product_id: UUID, hs_code: str) -> bool:
        return self.scope is None or self.scope.covers(product_id, hs_code)


HALAL = "halal"
FOOD_CHAPTERS = range(1, 25)
"""Food as the HS groups it (sections I–IV, chapters 01–24). Indonesia requires food makers to hold a halal
certificate: medium and large ones since 17 Oct 2024, micro and small ones since 17 Oct 2026."""


def delivery_month(required_by: date, lead_time_days: int) -> str:
    """The last month a plan may book: the month of ``required_by`` less the product's lead time."""
    return month_of(required_by - timedelta(days=lead_time_days))


def window(today: date, required_by: date, lead_time_days: int) -> list[str]:
    """The months in which a product must be made to be ready by ``required_by``."""
    return months_from(month_of(today), delivery_month(required_by, lead_time_days))


def required_certifications(named: Iterable[str], *, halal_for_food: bool, hs_code: str) -> frozenset[str]:
    """What a pool's allocation requires: the kinds it names, and halal for food when it asks for that."""
    food = hs_code[:2].isdigit() and int(hs_code[:2]) in FOOD_CHAPTERS
    return frozenset(named) | ({HALAL} if halal_for_food and food else set())


def valid_certifications(
    certificates: Sequence[Certificate], product_id: UUID, hs_code: str, *, today: date, through: date
) -> tuple[frozenset[str], dict[str, str]]:
    """The kinds of certificate that count for the product from ``today`` through ``through`` (the delivery
    month's last day), and for each kind held that does not count, which certificate falls short and why."""
    valid = frozenset(
        c.kind
        for c in certificates
        if c.valid_from <= today <= through <= c.valid_until and c.covers(product_id, hs_code)
    )
    notes: dict[str, str] = {}
    for kind in sorted({c.kind for c in certificates} - valid):
        held = [c for c in certificates if c.kind == kind]
        covering = [c for c in held if c.covers(product_id, hs_code)]
        if not covering:
            numbers = ", ".join(sorted(c.number for c in held))
            notes[kind] = f"the {kind} certificate {numbers} does not cover this product"
            continue
        best = max(covering, key=lambda c: (c.valid_until, c.number))
        if best.valid_until < through:
            notes[kind] = (
                f"the {kind} certificate {best.number} expires on {best.valid_until.isoformat()}, before the end "
                f"of the delivery month {through.isoformat()[:7]}"
            )
        else:
            starts = min((c for c in covering if c.valid_until >= through), key=lambda c: c.valid_from)
            notes[kind] = f"the {kind} certificate {starts.number} is valid only from {starts.valid_from.isoformat()}"
    return valid, notes


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
    through = last_day_of(delivery_month(required_by, offering.lead_time_days))
    certified, notes = valid_certifications(
        certificates, offering.product_id, offering.hs_code, today=today, through=through
    )
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
        certifications=certified,
        certification_notes=tuple(sorted(notes.items())),
        distance_km=distance(offering.city, consolidation_point),
    )
