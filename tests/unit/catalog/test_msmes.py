"""The MSME decider: registration rules, updates and suspension, certifications, unique SKUs and NIBs."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID

import pytest

from events.catalog import CertificationAdded, Contact, MsmeRegistered, MsmeUpdated, NibClaimed, SkuClaimed
from services.catalog.domain.msme import (
    MSME,
    AddCertification,
    ClaimSku,
    MsmeChanges,
    ReleaseSku,
    UpdateMsme,
)
from services.catalog.domain.nib import NIB_REGISTRY, ClaimNib
from shared.kernel.errors import Conflict, NotFound
from tests.support.given import invalid_fields, then, then_raises
from tests.unit.catalog.given import (
    MSME_ID,
    NOW,
    OTHER_PRODUCT_ID,
    PRODUCT_ID,
    register,
    registered,
)

pytestmark = pytest.mark.unit


def test_registering_names_the_canonical_province_and_city() -> None:
    event = registered(province="jawa tengah", city="Solo")
    assert isinstance(event, MsmeRegistered)
    assert (event.province, event.city) == ("Jawa Tengah", "Surakarta")
    assert event.org == "cirebon-weavers" and event.status == "active"


@pytest.mark.parametrize(
    "city, province",
    [
        ("Bandung", "Jawa Barat"),
        ("Semarang", "Jawa Tengah"),
        ("Yogyakarta", "DI Yogyakarta"),
        ("Malang", "Jawa Timur"),
        ("Medan", "Sumatera Utara"),
        ("Samarinda", "Kalimantan Timur"),
        ("Makassar", "Sulawesi Selatan"),
        ("Denpasar", "Bali"),
        ("Jepara", "Jawa Tengah"),
        ("Surabaya", "Jawa Timur"),
        ("Jakarta", "DKI Jakarta"),
    ],
)
def test_every_export_hub_city_can_be_registered(city: str, province: str) -> None:
    event = registered(city=city, province=province)
    assert isinstance(event, MsmeRegistered) and event.city == city


def test_registration_reports_every_invalid_field_at_once() -> None:
    command = register(
        nib="91200012345",
        name="  ",
        province="Atlantis",
        city="Gotham",
        contact=Contact(name="Siti", email="not-an-email"),
        org="",
    )
    assert invalid_fields(MSME, [], command) == {"nib", "name", "province", "city", "contact.email", "org"}


@pytest.mark.parametrize("nib", ["912000123456", "91200012345678", "912000123456A", "9120-0012-3456"])
def test_a_nib_is_exactly_thirteen_digits(nib: str) -> None:
    assert invalid_fields(MSME, [], register(nib=nib)) == {"nib"}


def test_a_city_must_lie_in_the_province_given() -> None:
    assert invalid_fields(MSME, [], register(province="Jawa Timur", city="Cirebon")) == {"city"}


def test_a_contact_needs_a_way_to_reach_someone() -> None:
    assert invalid_fields(MSME, [], register(contact=Contact(name="Siti"))) == {"contact"}
    assert invalid_fields(MSME, [], register(contact=Contact(name="Siti", phone="call me"))) == {"contact.phone"}


def test_an_msme_registers_once() -> None:
    error = then_raises(MSME, [registered()], register(), Conflict)
    assert error.problem == "already-registered"


def test_a_business_number_belongs_to_one_msme() -> None:
    first = then(NIB_REGISTRY, [], ClaimNib(nib="9120001234567", msme_id=MSME_ID, at=NOW))
    assert first == [NibClaimed(nib="9120001234567", msme_id=MSME_ID, at=NOW)]
    assert then(NIB_REGISTRY, first, ClaimNib(nib="9120001234567", msme_id=MSME_ID, at=NOW)) == []
    other = UUID("01890000-0000-7000-8000-0000000000ff")
    error = then_raises(NIB_REGISTRY, first, ClaimNib(nib="9120001234567", msme_id=other, at=NOW), Conflict)
    assert error.problem == "duplicate-nib"


def test_an_update_carries_the_whole_profile_and_names_what_changed() -> None:
    events = then(MSME, [registered()], UpdateMsme(changes=MsmeChanges(name="Rotan Jaya", city="Bandung"), at=NOW))
    assert len(events) == 1 and isinstance(events[0], MsmeUpdated)
    update = events[0]
    assert update.changed == ["name", "city"]
    assert (update.name, update.province, update.city, update.nib) == (
        "Rotan Jaya",
        "Jawa Barat",
        "Bandung",
        "9120001234567",
    )
    assert update.org == "cirebon-weavers" and update.status == "active"


def test_an_update_that_changes_nothing_records_nothing() -> None:
    assert then(MSME, [registered()], UpdateMsme(changes=MsmeChanges(name="Rotan Cirebon Jaya"), at=NOW)) == []


def test_an_update_is_validated_like_a_registration() -> None:
    assert invalid_fields(MSME, [registered()], UpdateMsme(changes=MsmeChanges(city="Medan"), at=NOW)) == {"city"}


def test_suspension_is_an_update_of_the_status_with_its_reason() -> None:
    suspend = UpdateMsme(changes=MsmeChanges(status="suspended"), status_reason="expired NIB", at=NOW)
    [event] = then(MSME, [registered()], suspend)
    assert isinstance(event, MsmeUpdated)
    assert event.status == "suspended" and event.changed == ["status"] and event.status_reason == "expired NIB"
    [back] = then(MSME, [registered(), event], UpdateMsme(changes=MsmeChanges(status="active"), at=NOW))
    assert isinstance(back, MsmeUpdated) and back.status == "active"


def test_an_unknown_msme_cannot_be_updated() -> None:
    then_raises(MSME, [], UpdateMsme(changes=MsmeChanges(name="x"), at=NOW), NotFound)


def certify(**overrides: object) -> AddCertification:
    values: dict[str, object] = {
        "certification_id": UUID("01890000-0000-7000-8000-0000000000c1"),
        "kind": "halal",
        "name": None,
        "number": "ID00410000123450423",
        "issuer": "BPJPH",
        "valid_from": date(2025, 1, 1),
        "valid_until": date(2028, 12, 31),
        "at": NOW,
    }
    values.update(overrides)
    return AddCertification(**values)  # type: ignore[arg-type]


def test_a_certification_is_named_after_its_kind_unless_it_is_another_scheme() -> None:
    [halal] = then(MSME, [registered()], certify())
    assert isinstance(halal, CertificationAdded) and halal.name == "Halal" and halal.msme_id == MSME_ID
    [other] = then(MSME, [registered()], certify(kind="other", name="Rainforest Alliance"))
    assert isinstance(other, CertificationAdded) and other.name == "Rainforest Alliance"
    assert invalid_fields(MSME, [registered()], certify(kind="other")) == {"name"}


def test_a_certification_cannot_end_before_it_starts_and_is_recorded_once() -> None:
    backwards = certify(valid_from=date(2027, 1, 1), valid_until=date(2026, 1, 1))
    assert invalid_fields(MSME, [registered()], backwards) == {"valid_until"}
    given = [registered(), *then(MSME, [registered()], certify())]
    error = then_raises(MSME, given, certify(certification_id=UUID(int=7)), Conflict)
    assert error.problem == "duplicate-certification"


def test_an_expired_certification_stops_counting_on_its_own() -> None:
    given = [registered(), *then(MSME, [registered()], certify(valid_until=date(2026, 12, 31)))]
    [held] = MSME.fold(given).certifications
    assert held.valid_on(date(2026, 12, 31))
    assert not held.valid_on(date(2026, 12, 31) + timedelta(days=1))
    assert not held.valid_on(date(2024, 12, 31))


def test_skus_are_unique_per_msme_regardless_of_case() -> None:
    [claimed] = then(MSME, [registered()], ClaimSku(product_id=PRODUCT_ID, sku="RB-40", at=NOW))
    assert claimed == SkuClaimed(msme_id=MSME_ID, product_id=PRODUCT_ID, sku="RB-40", at=NOW)
    given = [registered(), claimed]
    error = then_raises(MSME, given, ClaimSku(product_id=OTHER_PRODUCT_ID, sku="rb-40", at=NOW), Conflict)
    assert error.problem == "duplicate-sku" and error.extensions["field"] == "sku"
    assert then(MSME, given, ClaimSku(product_id=PRODUCT_ID, sku="RB-40", at=NOW)) == []


def test_a_released_sku_is_free_for_another_product() -> None:
    claimed = then(MSME, [registered()], ClaimSku(product_id=PRODUCT_ID, sku="RB-40", at=NOW))
    released = then(MSME, [registered(), *claimed], ReleaseSku(product_id=PRODUCT_ID, sku="RB-40", at=NOW))
    assert len(released) == 1
    again = then(MSME, [registered(), *claimed, *released], ClaimSku(product_id=OTHER_PRODUCT_ID, sku="RB-40", at=NOW))
    assert len(again) == 1
    # Releasing an SKU the product does not hold changes nothing.
    assert then(MSME, [registered()], ReleaseSku(product_id=PRODUCT_ID, sku="RB-40", at=NOW)) == []


def test_a_suspended_msme_cannot_list_products() -> None:
    [suspended] = then(MSME, [registered()], UpdateMsme(changes=MsmeChanges(status="suspended"), at=NOW))
    error = then_raises(MSME, [registered(), suspended], ClaimSku(product_id=PRODUCT_ID, sku="X1", at=NOW), Conflict)
    assert error.problem == "msme-suspended"
