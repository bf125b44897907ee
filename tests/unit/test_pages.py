"""The cursor every list shares knows the types of its keys: what it issued reads back, anything else is refused."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import pytest

from shared.kernel.errors import InvalidInput
from shared.pages import BY_ID, Keyset, Page

pytestmark = pytest.mark.unit

BY_TIME = Keyset[tuple[datetime, UUID]](tuple[datetime, UUID])
AT = datetime(2027, 3, 1, 8, 30, tzinfo=UTC)
ID = UUID("0190a5b0-0000-7000-8000-000000000001")


def test_a_cursor_reads_back_as_the_keys_it_was_made_of() -> None:
    assert BY_TIME.decode(BY_TIME.encode((AT, ID))) == (AT, ID)
    assert BY_ID.decode(BY_ID.encode((ID,))) == (ID,)
    assert BY_ID.decode(None) is None


@pytest.mark.parametrize(
    "cursor",
    [
        "WyJ4Il0",  # ["x"]
        "WzFd",  # [1]
        "W251bGxd",  # [null]
        BY_ID.encode((ID,)),  # one key where two are expected
        BY_TIME.encode((AT, ID))[:-6],  # truncated
        "%%%",
        "ü",
        "",
    ],
)
def test_a_cursor_of_the_wrong_content_is_invalid_input_naming_cursor(cursor: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        BY_TIME.decode(cursor)
    assert [e.field for e in refused.value.errors] == ["cursor"]


def test_a_page_has_a_next_cursor_only_when_a_row_is_left_over() -> None:
    rows = [UUID(int=n) for n in range(1, 4)]
    first = BY_ID.page(rows, 2, lambda row: row, lambda item: (item,))
    assert first == Page(items=rows[:2], next_cursor=BY_ID.encode((rows[1],)))
    assert BY_ID.page(rows, 3, lambda row: row, lambda item: (item,)).next_cursor is None
    assert BY_ID.page([], 3, lambda row: row, lambda item: (item,)) == Page(items=[], next_cursor=None)
