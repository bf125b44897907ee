"""A pool consolidates at a port Gotong knows (kept as its UN/LOCODE) or at a city; anything else is named."""

from __future__ import annotations

import pytest

from services.pooling.use_cases.pools import consolidation_point

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("given", "kept"), [("IDSRG", "IDSRG"), ("tanjung priok", "IDTPP"), ("Cirebon", "IDCBN")])
def test_a_port_is_kept_as_its_locode(given: str, kept: str) -> None:
    assert consolidation_point(given) == (kept, [])


def test_a_place_gotong_does_not_know_is_refused_by_field() -> None:
    point, (refused,) = consolidation_point("Atlantis")
    assert point is None and refused.field == "consolidation_point"
    assert refused.message.startswith("is not an Indonesian port Gotong knows (a UN/LOCODE such as IDSRG")
