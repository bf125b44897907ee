"""An aggregator's exporter profile: set whole, checked, and appended only when it changes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from events.pooling import ExporterProfileSet
from services.pooling.domain.exporter_profile import EXPORTER, SetExporterProfile
from tests.support.given import history, invalid_fields, then

pytestmark = pytest.mark.unit

NOW = datetime(2027, 1, 4, 9, tzinfo=UTC)


def profile(**overrides: Any) -> SetExporterProfile:
    values: dict[str, Any] = {"org": "semarang-trading", "name": " PT Semarang Trading ", "nib": "8120301234567",
                              "npwp": "01.234.567.8-503.000", "address": "Jl. Pemuda 150, Semarang",
                              "by": "aggregator:dewi", "at": NOW}  # fmt: skip
    values.update(overrides)
    return SetExporterProfile(**values)


def test_a_profile_is_kept_tidy_and_its_npwp_as_digits() -> None:
    [event] = then(EXPORTER, [], profile())
    assert event == ExporterProfileSet(
        org="semarang-trading", name="PT Semarang Trading", nib="8120301234567", npwp="012345678503000",
        address="Jl. Pemuda 150, Semarang", set_by="aggregator:dewi", at=NOW,
    )  # fmt: skip
    assert then(EXPORTER, [], profile(npwp="0123456785030001"))[0].npwp == "0123456785030001"  # NPWP16


def test_setting_the_same_profile_again_changes_nothing() -> None:
    given_events = history(EXPORTER, profile())
    assert then(EXPORTER, given_events, profile(npwp="012345678503000", by="admin:ops")) == []
    [renamed] = then(EXPORTER, given_events, profile(name="PT STN"))
    assert isinstance(renamed, ExporterProfileSet) and renamed.name == "PT STN"


def test_a_bad_profile_names_every_field() -> None:
    bad = profile(name=" ", nib="812030123456", npwp="01.234.567.8-503", address="")
    assert invalid_fields(EXPORTER, [], bad) == {"name", "nib", "npwp", "address"}
    assert invalid_fields(EXPORTER, [], profile(nib="８１２０３０１２３４５６７")) == {"nib"}  # ASCII digits only
