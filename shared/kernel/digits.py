"""Digits as people write numbers in requests: ASCII only."""

from __future__ import annotations


def is_digits(text: str) -> bool:
    """Whether ``text`` is ASCII digits only: ``str.isdigit`` also admits ``"¹"`` and ``"٣"``."""
    return text.isascii() and text.isdigit()
