"""A value outside an enum is refused with the values that are allowed, wherever it sits in a body."""

from __future__ import annotations

import enum
from typing import Annotated, Literal

import msgspec
import pytest

from shared.kernel.choices import allowed, explain, type_at
from shared.kernel.errors import InvalidInput
from shared.validation import decode_body

pytestmark = pytest.mark.unit


class Severity(enum.Enum):
    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"


class Check(msgspec.Struct, forbid_unknown_fields=True):
    severity: Severity
    level: Literal["I", "II", "III"] | None = None


class Plan(msgspec.Struct, forbid_unknown_fields=True):
    checks: Annotated[list[Check], msgspec.Meta(min_length=1)]
    aql: dict[str, Severity] = {}


def _refusal(body: bytes) -> list[tuple[str, str]]:
    with pytest.raises(InvalidInput) as refused:
        decode_body(body, Plan)
    return [(e.field, e.message) for e in refused.value.errors]


def test_a_value_outside_an_enum_is_refused_with_the_allowed_values() -> None:
    errors = _refusal(b'{"checks": [{"severity": "major"}, {"severity": "fatal", "level": "IV"}], "aql": {"x": "?"}}')
    assert errors == [
        ("checks[1].severity", "'fatal' is not allowed; must be one of: critical, major, minor"),
        ("checks[1].level", "'IV' is not allowed; must be one of: I, II, III"),
        ("aql.x", "'?' is not allowed; must be one of: critical, major, minor"),
    ]


def test_the_type_at_a_path_is_found_through_lists_dicts_and_optionals() -> None:
    assert type_at(Plan, ".checks[3].severity") is Severity
    assert allowed(type_at(Plan, ".checks[0].level")) == ["I", "II", "III"]
    assert allowed(list[Severity] | None) == ["critical", "major", "minor"]
    assert type_at(Plan, ".nothing") is None


def test_other_messages_pass_unchanged_and_an_unknown_type_still_reads_plainly() -> None:
    assert explain("Expected `int`, got `str`", Severity) == "Expected `int`, got `str`"
    assert explain("Invalid enum value 'x'", None) == "'x' is not one of the allowed values"
