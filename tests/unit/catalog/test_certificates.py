"""Certificates: the products they cover, and expiry notices 30 and 7 days before their last valid day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import msgspec
import pytest

from events.catalog import CODEC, CertificationAdded, CertificationExpiring, CertificationScope, SkuClaimed
from services.catalog.domain.certification import notice_days_of
from services.catalog.domain.msme import MSME, AddCertification, NoticeExpiry
from tests.support.given import history, invalid_fields, then
from tests.unit.catalog.given import MSME_ID, NOW, OTHER_PRODUCT_ID, PRODUCT_ID, register

pytestmark = pytest.mark.unit

HALAL_ID = UUID("01890000-0000-7000-8000-0000000000c1")
RENEWAL_ID = UUID("01890000-0000-7000-8000-0000000000c2")
LAST_DAY = date(2027, 3, 31)


def certify(**overrides: Any) -> AddCertification:
    values: dict[str, Any] = {
        "certification_id": HALAL_ID,
        "kind": "halal",
        "name": None,
        "number": "ID00410000123450423",
        "issuer": "BPJPH",
        "valid_from": date(2025, 4, 1),
        "valid_until": LAST_DAY,
        "at": NOW,
    }
    values.update(overrides)
    return AddCertification(**values)


def with_products() -> list[Any]:
    """A registered MSME that lists one product (its SKU claimed on the MSME's stream)."""
    claimed = SkuClaimed(msme_id=MSME_ID, product_id=PRODUCT_ID, sku="KRP-1", at=NOW)
    return [*history(MSME, register()), claimed]


def notice(days: int, today: date, certification_id: UUID = HALAL_ID) -> NoticeExpiry:
    return NoticeExpiry(
        certification_id=certification_id,
        notice_days=days,
        today=today,
        at=datetime.combine(today, datetime.min.time(), tzinfo=UTC),
    )


def test_a_certificate_covers_all_products_unless_it_names_a_scope() -> None:
    [everything] = then(MSME, with_products(), certify())
    assert isinstance(everything, CertificationAdded) and everything.scope is None
    scope = CertificationScope(product_ids=[PRODUCT_ID, PRODUCT_ID], hs_prefixes=["1905.90", "2106"])
    [scoped] = then(MSME, with_products(), certify(scope=scope))
    assert isinstance(scoped, CertificationAdded)
    assert scoped.scope == CertificationScope(product_ids=[PRODUCT_ID], hs_prefixes=["190590", "2106"])
    assert scoped.scope.covers(PRODUCT_ID, "0901") and scoped.scope.covers(OTHER_PRODUCT_ID, "21069099")
    assert not scoped.scope.covers(OTHER_PRODUCT_ID, "1905")


def test_a_scope_names_only_the_msmes_own_products_and_real_hs_prefixes() -> None:
    foreign = certify(scope=CertificationScope(product_ids=[PRODUCT_ID, OTHER_PRODUCT_ID], hs_prefixes=["2", "19x"]))
    assert invalid_fields(MSME, with_products(), foreign) == {
        "scope.product_ids[1]",
        "scope.hs_prefixes[0]",
        "scope.hs_prefixes[1]",
    }
    assert invalid_fields(MSME, with_products(), certify(scope=CertificationScope())) == {"scope"}


def test_certificates_stored_before_scopes_existed_still_load_and_cover_everything() -> None:
    stored = {
        "type": "catalog.CertificationAdded.v1", "certification_id": str(HALAL_ID), "msme_id": str(MSME_ID),
        "kind": "halal", "name": "Halal", "number": "ID1", "issuer": "BPJPH", "valid_from": "2025-04-01",
        "valid_until": "2027-03-31", "at": "2026-10-15T09:30:00Z",
    }  # fmt: skip
    event = CODEC.decode("CertificationAdded", 1, msgspec.json.encode(stored))
    assert isinstance(event, CertificationAdded) and event.scope is None
    [held] = MSME.fold([*history(MSME, register()), event]).certifications
    assert held.scope is None


def test_notices_fall_30_and_7_days_before_the_last_valid_day() -> None:
    assert notice_days_of(LAST_DAY) == {30: date(2027, 3, 1), 7: date(2027, 3, 24)}


def test_each_expiry_notice_is_given_once_with_who_to_tell() -> None:
    given = history(MSME, register(registered_by="semarang-trading"), certify())
    [first] = then(MSME, given, notice(30, date(2027, 3, 1)))
    assert first == CertificationExpiring(
        certification_id=HALAL_ID, msme_id=MSME_ID, kind="halal", name="Halal", number="ID00410000123450423",
        valid_until=LAST_DAY, days_left=30, notice_days=30, org="cirebon-weavers", registered_by="semarang-trading",
        at=datetime(2027, 3, 1, tzinfo=UTC),
    )  # fmt: skip
    assert then(MSME, [*given, first], notice(30, date(2027, 3, 1))) == []
    [second] = then(MSME, [*given, first], notice(7, date(2027, 3, 24)))
    assert isinstance(second, CertificationExpiring) and (second.days_left, second.notice_days) == (7, 7)
    assert then(MSME, [*given, first, second], notice(7, date(2027, 3, 24))) == []


def test_a_late_notice_tells_the_days_really_left_and_gives_way_to_a_nearer_one() -> None:
    given = history(MSME, register(), certify())
    [late] = then(MSME, given, notice(30, date(2027, 3, 10)))
    assert isinstance(late, CertificationExpiring) and late.days_left == 21
    assert then(MSME, given, notice(30, date(2027, 3, 26))) == []  # the 7-day notice tells it
    assert then(MSME, given, notice(7, LAST_DAY + timedelta(days=1))) == []  # expired: nothing to warn of
    assert then(MSME, given, notice(7, date(2027, 3, 24), certification_id=RENEWAL_ID)) == []  # no such certificate


def test_a_renewal_held_in_time_makes_the_notice_needless() -> None:
    renewal = certify(
        certification_id=RENEWAL_ID, number="ID00410000123450999", valid_from=date(2027, 4, 1),
        valid_until=date(2031, 3, 31),
    )  # fmt: skip
    given = history(MSME, register(), certify(), renewal)
    assert then(MSME, given, notice(30, date(2027, 3, 1))) == []


def test_a_renewal_that_leaves_a_gap_or_covers_less_does_not_stop_the_notice() -> None:
    late = certify(certification_id=RENEWAL_ID, number="N2", valid_from=date(2027, 5, 1), valid_until=date(2031, 1, 1))
    assert len(then(MSME, history(MSME, register(), certify(), late), notice(30, date(2027, 3, 1)))) == 1
    narrower = certify(
        certification_id=RENEWAL_ID, number="N3", valid_from=date(2027, 3, 1), valid_until=date(2031, 1, 1),
        scope=CertificationScope(hs_prefixes=["1905"]),
    )  # fmt: skip
    given = [*with_products(), *then(MSME, with_products(), certify())]
    given += then(MSME, given, narrower)
    assert len(then(MSME, given, notice(30, date(2027, 3, 1)))) == 1
