"""Certificates an MSME holds: what they cover, and when their holders are told they are about to expire.

A certificate covers all of the MSME's products unless it names a scope (products of the MSME, HS-code
prefixes). Thirty and seven days before its last valid day the catalog's due actions ask for an expiry notice;
each is given once, and not at all for a certificate already expired, one whose nearer notice is due as well
(a late firing), or one renewed by a certificate of the same scheme that covers at least what it covered and
runs on from its last day.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from uuid import UUID

from events.catalog import CertificationKind, CertificationScope
from shared.kernel.errors import FieldError

EXPIRY_NOTICES = (30, 7)
"""Days before a certificate's last valid day at which its holder and their aggregator are told."""


@dataclass(frozen=True)
class Certification:
    certification_id: UUID
    kind: CertificationKind
    name: str
    number: str
    issuer: str
    valid_from: date
    valid_until: date
    scope: CertificationScope | None = None
    notices: frozenset[int] = frozenset()  # the expiry notices given (days before)

    def valid_on(self, day: date) -> bool:
        """Counts on ``day``: an expired certificate stops counting on its own."""
        return self.valid_from <= day <= self.valid_until

    def covers_scope_of(self, other: Certification) -> bool:
        """Does this certificate cover every product ``other`` covers?"""
        if self.scope is None:
            return True
        if other.scope is None:
            return False
        ids, prefixes = set(self.scope.product_ids), self.scope.hs_prefixes
        return set(other.scope.product_ids) <= ids and all(
            any(mine.startswith(p) for p in prefixes) for mine in other.scope.hs_prefixes
        )

    def renews(self, other: Certification) -> bool:
        """Is this the same scheme's certificate taking over from ``other`` on or before its last day ends?"""
        return (
            self.certification_id != other.certification_id
            and (self.kind, self.name) == (other.kind, other.name)
            and self.valid_until > other.valid_until
            and self.valid_from <= other.valid_until + timedelta(days=1)
            and self.covers_scope_of(other)
        )


def scope_errors(scope: CertificationScope | None, own_products: set[UUID]) -> list[FieldError]:
    """422 fields of a scope: it names something, only the MSME's own products, HS prefixes of 2–10 digits."""
    if scope is None:
        return []
    errors: list[FieldError] = []
    if not scope.product_ids and not scope.hs_prefixes:
        errors.append(FieldError("scope", "names no product and no HS prefix; leave it out to cover all products"))
    for index, product_id in enumerate(scope.product_ids):
        if product_id not in own_products:
            errors.append(FieldError(f"scope.product_ids[{index}]", "is not a product of this MSME"))
    for index, prefix in enumerate(scope.hs_prefixes):
        digits = prefix.replace(".", "")
        if not (digits.isascii() and digits.isdigit() and 2 <= len(digits) <= 10):
            errors.append(FieldError(f"scope.hs_prefixes[{index}]", "must be 2 to 10 digits of an HS code"))
    return errors


def normalised(scope: CertificationScope | None) -> CertificationScope | None:
    if scope is None:
        return None
    prefixes = sorted({p.replace(".", "") for p in scope.hs_prefixes})
    return CertificationScope(product_ids=sorted(set(scope.product_ids)), hs_prefixes=prefixes)


def notice_due(held: Certification, held_by_msme: Iterable[Certification], notice_days: int, today: date) -> int | None:
    """The days left to tell at the ``notice_days`` notice, or None when that notice is not to be given."""
    if notice_days not in EXPIRY_NOTICES or notice_days in held.notices:
        return None
    days_left = (held.valid_until - today).days
    if days_left < 0 or any(days_left <= nearer for nearer in EXPIRY_NOTICES if nearer < notice_days):
        return None
    if any(other.renews(held) for other in held_by_msme):
        return None
    return days_left


def notice_days_of(valid_until: date) -> dict[int, date]:
    """The day of each expiry notice of a certificate whose last valid day is ``valid_until``."""
    return {days: valid_until - timedelta(days=days) for days in EXPIRY_NOTICES}
