"""Request validation names every invalid field with its path."""

from __future__ import annotations

from typing import Annotated

import msgspec
import pytest

from shared.kernel.digits import is_digits
from shared.kernel.errors import InvalidInput, MalformedRequest
from shared.validation import collect_errors, decode_body

pytestmark = pytest.mark.unit


class Line(msgspec.Struct, forbid_unknown_fields=True):
    quantity: Annotated[int, msgspec.Meta(ge=1)]
    unit: str


class Order(msgspec.Struct, forbid_unknown_fields=True):
    buyer: str
    lines: Annotated[list[Line], msgspec.Meta(min_length=1, max_length=5)]
    notes: str | None = None


def test_every_bad_field_is_reported_with_its_path() -> None:
    errors = collect_errors({"buyer": 7, "lines": [{"quantity": 0, "unit": "PCE"}, {"unit": 3, "x": 1}]}, Order)
    assert [(e.field, e.message) for e in errors] == [
        ("buyer", "Expected `str`, got `int`"),
        ("lines[0].quantity", "Expected `int` >= 1"),
        ("lines[1].quantity", "is required"),
        ("lines[1].unit", "Expected `str`, got `int`"),
        ("lines[1].x", "is not a known field"),
    ]


def test_a_constraint_on_a_list_itself_names_the_list() -> None:
    assert [e.field for e in collect_errors({"buyer": "b", "lines": []}, Order)] == ["lines"]


def test_malformed_json_and_duplicate_keys_are_refused() -> None:
    with pytest.raises(MalformedRequest):
        decode_body(b'{"buyer": "b",', Order)
    with pytest.raises(MalformedRequest, match="duplicate key 'buyer'"):
        decode_body(b'{"buyer": "a", "buyer": "b", "lines": [{"quantity": 1, "unit": "PCE"}]}', Order)
    with pytest.raises(MalformedRequest):
        decode_body(b'{"buyer": NaN}', Order)


def test_a_valid_body_decodes_and_an_invalid_one_raises_with_all_errors() -> None:
    order = decode_body(b'{"buyer": "b", "lines": [{"quantity": 2, "unit": "PCE"}]}', Order)
    assert order == Order(buyer="b", lines=[Line(quantity=2, unit="PCE")])
    with pytest.raises(InvalidInput) as raised:
        decode_body(b'{"lines": [{"quantity": 0, "unit": "PCE"}]}', Order)
    assert {e.field for e in raised.value.errors} == {"buyer", "lines[0].quantity"}


def test_a_nul_character_in_any_string_or_key_is_refused_naming_its_field() -> None:
    body = b'{"buyer": "b", "lines": [{"quantity": 1, "unit": "P\\u0000CE"}], "notes": "a\\u0000b"}'
    with pytest.raises(InvalidInput) as raised:
        decode_body(body, Order)
    assert [(e.field, e.message) for e in raised.value.errors] == [
        ("lines[0].unit", "must not contain NUL characters (\\u0000)"),
        ("notes", "must not contain NUL characters (\\u0000)"),
    ]
    with pytest.raises(InvalidInput) as raised:
        decode_body(b'{"buyer": "b", "lines": [{"quantity": 1, "unit": "PCE", "x\\u0000": 1}]}', Order)
    assert "lines[0].x\\u0000" in {e.field for e in raised.value.errors}


def test_nesting_deeper_than_the_limit_is_malformed_and_names_the_limit() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(MalformedRequest, match="64 levels"):
        decode_body(deep, Order)
    with pytest.raises(MalformedRequest, match="64 levels"):
        decode_body(b'{"buyer": ' + b"[" * 64 + b"]" * 64 + b"}", Order)
    with pytest.raises(InvalidInput):  # 64 levels in all are allowed; this one is only the wrong type
        decode_body(b'{"buyer": ' + b"[" * 63 + b"]" * 63 + b"}", Order)


def test_a_lone_surrogate_in_a_string_is_refused_naming_its_field() -> None:
    with pytest.raises(InvalidInput) as raised:
        decode_body(b'{"buyer": "b\\ud800", "lines": [{"quantity": 1, "unit": "PCE"}]}', Order)
    assert [e.field for e in raised.value.errors] == ["buyer"]
    assert "surrogate" in raised.value.errors[0].message


@pytest.mark.parametrize(
    ("text", "digits"),
    [("123", True), ("0", True), ("", False), ("¹", False), ("٣", False), ("1.0", False), ("-1", False)],
)
def test_only_ascii_digits_are_digits(text: str, digits: bool) -> None:
    assert is_digits(text) is digits
