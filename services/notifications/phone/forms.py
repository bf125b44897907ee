"""What the phone page's forms may hold: pure checks that turn a posted field into a value or the catalog key of
the message that tells the MSME what to fix (so bad input shows the form again, never an error page)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from services.notifications.domain.contacts import normal_phone
from shared.validation import character_errors

REASON_LIMIT = 500
"""Pooling keeps a decline's reason up to 500 characters."""
_E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")
_CODE = re.compile(r"^[0-9]{6}$")
_DIGITS = re.compile(r"^[0-9]{1,12}$")
_GROUPED = re.compile(r"^[0-9]{1,3}([.,][0-9]{3})+$")
"""1.500 (Indonesian) or 1,500 (English): thousands, not a fraction."""


class Invalid(Exception):
    """A field the MSME has to fix; ``key`` names the message, ``values`` fill it in."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


def phone_number(raw: str) -> str:
    """A phone number in E.164 (``+6281234567890``) as contacts keep it, and a number written the Indonesian way
    (``0812…`` or ``62812…``) with its country code."""
    compact = normal_phone(raw.strip()[:32])
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    elif compact.startswith("0"):
        compact = "+62" + compact[1:]
    elif compact.startswith("62"):
        compact = "+" + compact
    if not _E164.fullmatch(compact):
        raise Invalid("sign_in.bad_phone")
    return compact


def sign_in_code(raw: str) -> str:
    code = normal_phone(raw)
    if not _CODE.fullmatch(code):
        raise Invalid("sign_in.bad_code")
    return code


@dataclass(frozen=True)
class Answer:
    """An MSME's answer as the form gave it: accept all (quantity None), accept part, or decline with a reason."""

    decision: Literal["accept", "decline"]
    quantity: int | None = None
    reason: str | None = None


def answer(form: dict[str, str], requested: int) -> Answer:
    """The answer a request page's form posted, for a request of ``requested`` units."""
    match form.get("decision", ""):
        case "accept_all":
            return Answer("accept")
        case "accept_part":
            return Answer("accept", quantity=quantity(form.get("quantity", ""), requested))
        case "decline":
            return Answer("decline", reason=reason(form.get("reason", "")))
        case _:
            raise Invalid("answer.bad_decision")


def quantity(raw: str, requested: int) -> int:
    text = raw.strip()
    if _GROUPED.fullmatch(text):
        text = text.replace(".", "").replace(",", "")
    if not _DIGITS.fullmatch(text):
        raise Invalid("answer.not_number")
    value = int(text)
    if value < 1:
        raise Invalid("answer.too_small")
    if value > requested:
        raise Invalid("answer.too_large", quantity=requested)
    return value


def reason(raw: str) -> str:
    text = raw.strip()
    if not text:
        raise Invalid("answer.reason_missing")
    if len(text) > REASON_LIMIT:
        raise Invalid("answer.reason_too_long", limit=REASON_LIMIT)
    if character_errors(text):
        raise Invalid("answer.reason_unstorable")
    return text


def next_page(raw: str | None, default: str = "/m/") -> str:
    """Where to go after signing in or switching language: a path of the phone page, never another site."""
    if raw and raw.startswith("/m/") and "//" not in raw and "\\" not in raw and raw.isascii() and len(raw) <= 200:
        return raw
    return default
