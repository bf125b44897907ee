"""Standards: versions are drafted, revised while drafts, published once and then never change."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

import msgspec
import pytest

from events.quality import (
    Check,
    DefectClassAql,
    MeasuredAttribute,
    StandardCreated,
    StandardVersionDrafted,
    StandardVersionPublished,
    StandardVersionRevised,
    StandardVersionSpec,
)
from services.quality.domain.standard import (
    STANDARD,
    AddVersion,
    CreateStandard,
    PublishVersion,
    ReviseVersion,
    StandardEvent,
)
from shared.kernel.errors import Conflict, NotFound
from tests.support.given import invalid_fields, then, then_raises

pytestmark = pytest.mark.unit

AT = datetime(2027, 1, 10, 8, 0, tzinfo=UTC)
BASKET = UUID("01890000-0000-7000-8000-000000000001")


def basket_spec(**changes: object) -> StandardVersionSpec:
    spec = StandardVersionSpec(
        attributes=[
            MeasuredAttribute(
                name="diameter",
                unit="cm",
                nominal=Decimal(30),
                lower_tolerance=Decimal("0.5"),
                upper_tolerance=Decimal("0.5"),
                defect_class="major",
            )
        ],
        checks=[Check(name="weave is tight", defect_class="minor")],
        defect_classes=[
            DefectClassAql(defect_class="critical", aql=Decimal("0.065")),
            DefectClassAql(defect_class="major", aql=Decimal("1")),
            DefectClassAql(defect_class="minor", aql=Decimal("4.0")),
        ],
        inspection_level="II",
    )
    return msgspec.structs.replace(spec, **changes)


def created(publish: bool = False) -> list[StandardEvent]:
    return then(
        STANDARD,
        [],
        CreateStandard(BASKET, "Rattan round basket 30 cm", "EU retail", "qc-co", basket_spec(), publish, "ana", AT),
    )


def test_a_new_standard_starts_with_a_draft_version_one_with_aqls_written_as_in_the_series() -> None:
    events = created()
    assert [type(e) for e in events] == [StandardCreated, StandardVersionDrafted]
    drafted = events[1]
    assert isinstance(drafted, StandardVersionDrafted) and drafted.version == 1
    assert [str(c.aql) for c in drafted.spec.defect_classes] == ["0.065", "1.0", "4.0"]


def test_publishing_at_creation_makes_version_one_immutable_at_once() -> None:
    events = created(publish=True)
    assert isinstance(events[-1], StandardVersionPublished) and events[-1].version == 1
    assert events[-1].name == "Rattan round basket 30 cm" and events[-1].owner_org == "qc-co"
    refused = then_raises(STANDARD, events, ReviseVersion(1, basket_spec(notes="changed"), "ana", AT), Conflict)
    assert refused.problem == "version-published"
    then_raises(STANDARD, events, PublishVersion(1, "ana", AT), Conflict)


def test_a_draft_can_be_revised_then_published_and_a_next_version_added() -> None:
    history = created()
    revised = then(STANDARD, history, ReviseVersion(1, basket_spec(notes="weave checked in daylight"), "ana", AT))
    assert isinstance(revised[0], StandardVersionRevised)
    history += revised
    history += then(STANDARD, history, PublishVersion(1, "ana", AT))
    published = STANDARD.fold(history).version(1)
    assert published.published and published.spec.notes == "weave checked in daylight"
    added = then(STANDARD, history, AddVersion(basket_spec(allow_reduced=True), False, "ana", AT))
    assert isinstance(added[0], StandardVersionDrafted) and added[0].version == 2


def test_unknown_versions_and_standards_are_not_found_and_a_standard_is_created_once() -> None:
    then_raises(STANDARD, created(), PublishVersion(2, "ana", AT), NotFound)
    then_raises(STANDARD, [], AddVersion(basket_spec(), False, "ana", AT), NotFound)
    then_raises(
        STANDARD, created(), CreateStandard(BASKET, "again", "", "qc-co", basket_spec(), False, "ana", AT), Conflict
    )


def test_every_inconsistent_field_of_a_version_is_named() -> None:
    bad = basket_spec(
        defect_classes=[
            DefectClassAql(defect_class="major", aql=Decimal("0.3")),
            DefectClassAql(defect_class="major", aql=Decimal("1.5")),
        ],
        attributes=[
            MeasuredAttribute(
                name="height",
                unit="cm",
                nominal=Decimal(20),
                lower_tolerance=Decimal(-1),
                upper_tolerance=Decimal("NaN"),
                defect_class="critical",
            )
        ],
        checks=[Check(name="colour", defect_class="minor")],
    )
    assert invalid_fields(STANDARD, [], CreateStandard(BASKET, "x", "", "qc-co", bad, False, "ana", AT)) == {
        "defect_classes[0].aql",
        "defect_classes[1].defect_class",
        "attributes[0].defect_class",
        "attributes[0].lower_tolerance",
        "attributes[0].upper_tolerance",
        "checks[0].defect_class",
    }
