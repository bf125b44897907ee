"""What the phone page's forms accept, and how it writes numbers, money and times in each language."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from services.notifications.phone import forms
from services.notifications.phone.forms import Answer, Invalid
from services.notifications.phone.messages import CATALOG, LANGUAGES, Messages

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("raw", "phone"),
    [
        ("+62 812-3456-7001", "+6281234567001"),
        ("0812 3456 7001", "+6281234567001"),
        ("62 812 3456 7001", "+6281234567001"),
        ("0031 6 1234 5678", "+31612345678"),
        ("(+62) 812.3456.7001", "+6281234567001"),
    ],
)
def test_a_phone_number_is_read_as_e164(raw: str, phone: str) -> None:
    assert forms.phone_number(raw) == phone


@pytest.mark.parametrize(
    "raw", ["", "12345", "+0812345678", "+62 812 🙂", "+62８１２３４５６７", "+" + "1" * 16, "a@b"]
)
def test_what_is_not_a_phone_number_is_refused(raw: str) -> None:
    with pytest.raises(Invalid) as refused:
        forms.phone_number(raw)
    assert refused.value.key == "sign_in.bad_phone"


def test_a_code_is_six_ascii_digits() -> None:
    assert forms.sign_in_code(" 123 456 ") == "123456"
    for raw in ("12345", "1234567", "١٢٣٤٥٦", "12345a", "123456\n7"):
        with pytest.raises(Invalid):
            forms.sign_in_code(raw)


def test_the_answers_the_forms_give() -> None:
    assert forms.answer({"decision": "accept_all"}, 500) == Answer("accept")
    assert forms.answer({"decision": "accept_part", "quantity": " 300 "}, 500) == Answer("accept", quantity=300)
    assert forms.answer({"decision": "accept_part", "quantity": "1.500"}, 2000) == Answer("accept", quantity=1500)
    assert forms.answer({"decision": "accept_part", "quantity": "500"}, 500) == Answer("accept", quantity=500)
    assert forms.answer({"decision": "decline", "reason": " sakit 🤒 "}, 500) == Answer("decline", reason="sakit 🤒")


@pytest.mark.parametrize(
    ("quantity", "key"),
    [("", "answer.not_number"), ("3,5", "answer.not_number"), ("1.5", "answer.not_number"),
     ("３００", "answer.not_number"), ("٣٠٠", "answer.not_number"), ("0", "answer.too_small"),
     ("000", "answer.too_small"), ("501", "answer.too_large")],
)  # fmt: skip
def test_a_part_is_a_whole_number_from_one_to_what_was_asked(quantity: str, key: str) -> None:
    with pytest.raises(Invalid) as refused:
        forms.answer({"decision": "accept_part", "quantity": quantity}, 500)
    assert refused.value.key == key


def test_a_decline_needs_a_reason_pooling_can_keep() -> None:
    for reason, key in (("", "answer.reason_missing"), ("x" * 501, "answer.reason_too_long"),
                        ("a\x00b", "answer.reason_unstorable"), ("\ud800", "answer.reason_unstorable")):  # fmt: skip
        with pytest.raises(Invalid) as refused:
            forms.answer({"decision": "decline", "reason": reason}, 500)
        assert refused.value.key == key
    assert forms.reason("x" * 500) == "x" * 500


@pytest.mark.parametrize(
    ("raw", "page"),
    [("/m/requests/1", "/m/requests/1"), ("https://evil.example/", "/m/"), ("//evil.example/m/", "/m/"),
     ("/m//evil.example", "/m/"), ("/m/\\evil", "/m/"), (None, "/m/"), ("/v1/pools", "/m/")],
)  # fmt: skip
def test_after_signing_in_the_page_goes_only_to_its_own_paths(raw: str | None, page: str) -> None:
    assert forms.next_page(raw) == page


def test_every_message_is_in_both_languages() -> None:
    assert all(set(entry) == set(LANGUAGES) and all(entry.values()) for entry in CATALOG.values())


def test_numbers_money_and_times_are_written_the_way_each_language_does() -> None:
    id_, en = Messages("id"), Messages("en")
    assert (id_.number(12500), en.number(12500)) == ("12.500", "12,500")
    assert (id_.money(Decimal("1250.5"), "USD"), en.money("1250.5", "USD")) == ("USD 1.250,50", "USD 1,250.50")
    assert (id_.month("2027-05"), en.month("2027-05")) == ("Mei 2027", "May 2027")
    deadline = datetime(2027, 1, 6, 9, 0, tzinfo=UTC)
    assert id_.moment(deadline) == "6 Jan 2027, 16:00 WIB"
    assert en.day(date(2027, 8, 17)) == "17 Aug 2027"
    assert id_("result.accepted", quantity=300, requested=1500) == "Diterima 300 dari 1.500."
    assert en.why("over-capacity", None).startswith("the quantity is more than")
    assert en.why("something-new", "pooling's own words") == "pooling's own words"
    assert id_.label("status", "reallocated") == "reallocated"
