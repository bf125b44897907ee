"""Keyset pagination, the same in every list: a cursor that knows the types of its keys, and ``Page[T]``.

A list is ordered by some keys (an id, or a time then an id); its cursor is the keys of a page's last item,
as a JSON array in URL-safe base64. Decoding checks the keys against their declared types, so any cursor
this service did not issue (not base64, not JSON, the wrong number or type of keys) is a 422 naming
``cursor``, never a 500 from the query it would have fed.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar
from uuid import UUID

import msgspec

from shared.kernel.errors import InvalidInput

Keys = TypeVar("Keys", bound=tuple[Any, ...])
Item = TypeVar("Item")
Row = TypeVar("Row")

NOT_ISSUED = "is not a cursor this service issued; pass the next_cursor of a previous page, or none"


class Page(msgspec.Struct, Generic[Item], frozen=True, kw_only=True):
    """One page of a list: ``{"items": [...], "next_cursor": "..." | null}`` (null on the last page)."""

    items: list[Item]
    next_cursor: str | None


class Keyset(Generic[Keys]):
    """The keys one list is ordered by, and its cursors, e.g. ``Keyset(tuple[UUID])`` for a list ordered by id."""

    def __init__(self, keys: Any) -> None:
        """``keys`` is the tuple type of the keys, e.g. ``tuple[datetime, UUID]``."""
        self._decoder: msgspec.json.Decoder[Keys] = msgspec.json.Decoder(keys)

    def encode(self, keys: Keys) -> str:
        return base64.urlsafe_b64encode(msgspec.json.encode(keys)).decode().rstrip("=")

    def decode(self, cursor: str | None) -> Keys | None:
        """The keys the cursor points after, or None for the first page; a 422 naming ``cursor`` if it is not one."""
        if cursor is None:
            return None
        try:
            raw = base64.urlsafe_b64decode(cursor.encode("ascii") + b"=" * (-len(cursor) % 4))
            return self._decoder.decode(raw)
        except (ValueError, binascii.Error, msgspec.DecodeError):  # ValidationError is a DecodeError
            raise InvalidInput.of("cursor", NOT_ISSUED) from None

    def page(
        self, rows: Sequence[Row], limit: int, item: Callable[[Row], Item], keys: Callable[[Item], Keys]
    ) -> Page[Item]:
        """The page of ``rows`` (read with ``limit + 1`` so a next page shows) and the cursor after its last item."""
        items = [item(row) for row in rows[:limit]]
        next_cursor = self.encode(keys(items[-1])) if len(rows) > limit and items else None
        return Page(items=items, next_cursor=next_cursor)


BY_ID: Keyset[tuple[UUID]] = Keyset(tuple[UUID])
"""The cursor of a list ordered by its items' ids (UUIDv7, so oldest first)."""
