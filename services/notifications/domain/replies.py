"""What an MSME's WhatsApp reply means: a tapped button, or text typed in any language, emoji included.

``read_button`` reads a button id or template payload (``accept:<request id>``, ``part:…``, ``decline:…``);
``read_text`` reads typed text. Anything else is ``Unclear`` and gets a polite answer, never an error.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from uuid import UUID

MAX_QUANTITY = 100_000_000


@dataclass(frozen=True)
class AcceptAll:
    request_id: UUID | None = None


@dataclass(frozen=True)
class AcceptPart:
    """Accept part: with no quantity yet (the "Terima sebagian" button), Gotong asks how many."""

    request_id: UUID | None = None
    quantity: int | None = None


@dataclass(frozen=True)
class Decline:
    request_id: UUID | None = None


@dataclass(frozen=True)
class Quantity:
    """A bare number: the answer to "how many?" after "Terima sebagian"."""

    quantity: int


@dataclass(frozen=True)
class Stop:
    pass


@dataclass(frozen=True)
class Start:
    pass


@dataclass(frozen=True)
class Unclear:
    pass


Intent = AcceptAll | AcceptPart | Decline | Quantity | Stop | Start | Unclear

_ACTIONS: dict[str, type[AcceptAll | AcceptPart | Decline]] = {
    "accept": AcceptAll,
    "part": AcceptPart,
    "decline": Decline,
}
_ACCEPT = {"terima", "accept", "ya", "yes", "ok", "oke", "setuju", "terima semua", "accept all"}
_DECLINE = {"tolak", "decline", "tidak", "no", "reject", "tolak saja"}
_STOP = {"stop", "berhenti", "unsubscribe", "stop semua"}
_START = {"mulai", "start", "subscribe", "lanjut"}
_PART = {"terima sebagian", "sebagian", "accept part", "part"}
_NUMBER = re.compile(r"^(\d{1,3}(?:[.,]\d{3})+|\d{1,9})(?:\s*(?:pcs|unit|units|buah|pc|kg|lusin))?$")
_WITH_NUMBER = re.compile(r"^(terima|accept|ambil|take)\s+(.+)$")


def read_button(identifier: str) -> Intent:
    """A button id or payload Gotong made; anything it did not make is unclear."""
    action, _, raw = identifier.strip().partition(":")
    kind = _ACTIONS.get(action)
    if kind is None:
        return Unclear()
    try:
        request_id = UUID(raw)
    except ValueError:
        return Unclear()
    return kind(request_id=request_id)


def _words(text: str) -> str:
    """Lower case, letters, digits, spaces, dots and commas only (emoji and punctuation dropped)."""
    normal = unicodedata.normalize("NFKC", text).casefold()
    kept = "".join(ch if ch.isalnum() or ch in " .," else " " for ch in normal)
    return " ".join(kept.split()).strip(" .,")


def _quantity(raw: str) -> int | None:
    matched = _NUMBER.match(raw)
    if not matched:
        return None
    digits = re.sub(r"[.,]", "", matched[1])
    value = int(digits) if digits.isascii() and digits.isdigit() else 0
    return value if 1 <= value <= MAX_QUANTITY else None


def read_text(text: str) -> Intent:
    words = _words(text[:500])
    if not words:
        return Unclear()
    if words in _STOP:
        return Stop()
    if words in _START:
        return Start()
    if words in _ACCEPT:
        return AcceptAll()
    if words in _DECLINE:
        return Decline()
    if words in _PART:
        return AcceptPart()
    with_number = _WITH_NUMBER.match(words)
    if with_number:
        quantity = _quantity(with_number[2])
        return AcceptPart(quantity=quantity) if quantity is not None else Unclear()
    quantity = _quantity(words)
    return Quantity(quantity) if quantity is not None else Unclear()
