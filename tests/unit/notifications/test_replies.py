"""Reading what MSMEs reply on WhatsApp: buttons Gotong made, and text in Bahasa Indonesia, English or anything."""

from __future__ import annotations

from uuid import UUID

import pytest

from services.notifications.domain.replies import (
    AcceptAll,
    AcceptPart,
    Decline,
    Quantity,
    Start,
    Stop,
    Unclear,
    read_button,
    read_text,
)

pytestmark = pytest.mark.unit
RID = UUID("01900000-0000-7000-8000-00000000abcd")


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("terima 300", AcceptPart(quantity=300)),
        ("Terima 1.000 pcs", AcceptPart(quantity=1000)),
        ("accept 2,500", AcceptPart(quantity=2500)),
        ("terima", AcceptAll()),
        ("Terima semua!", AcceptAll()),
        ("TOLAK", Decline()),
        ("decline 🙏", Decline()),
        ("STOP", Stop()),
        ("berhenti", Stop()),
        ("MULAI", Start()),
        ("start", Start()),
        ("300", Quantity(300)),
        ("Terima sebagian", AcceptPart()),
        ("😀😀", Unclear()),
        ("مرحبا", Unclear()),
        ("٣٠٠", Unclear()),
        ("terima abc", Unclear()),
        ("0", Unclear()),
        ("terima 999999999999", Unclear()),
        ("", Unclear()),
        ("x" * 10_000, Unclear()),
    ],
)
def test_text(text: str, intent: object) -> None:
    assert read_text(text) == intent


def test_buttons_carry_the_request_and_anything_else_is_unclear() -> None:
    assert read_button(f"accept:{RID}") == AcceptAll(RID)
    assert read_button(f"part:{RID}") == AcceptPart(RID)
    assert read_button(f"decline:{RID}") == Decline(RID)
    assert read_button("accept:not-a-uuid") == Unclear()
    assert read_button(f"ship:{RID}") == Unclear()
    assert read_button("") == Unclear()
