"""A route's declared guard lets its roles and admins through and refuses others with 403 naming the roles."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from shared.auth import Principal, Role
from shared.guards import allow
from shared.kernel.errors import Forbidden

pytestmark = pytest.mark.unit


def _caller(role: Role) -> Any:
    return SimpleNamespace(state=SimpleNamespace(principal=Principal(sub="u", role=role, org="o")))


async def test_a_guard_lets_its_roles_and_admins_through_and_refuses_the_others() -> None:
    guard = allow(Role.BUYER, Role.AGGREGATOR)
    for role in (Role.BUYER, Role.AGGREGATOR, Role.ADMIN):
        await guard(_caller(role), None)  # type: ignore[arg-type]
    for role in (Role.MSME, Role.INSPECTOR):
        with pytest.raises(Forbidden, match="buyer, aggregator; you are"):
            await guard(_caller(role), None)  # type: ignore[arg-type]


def test_a_route_must_allow_someone() -> None:
    with pytest.raises(ValueError, match="at least one role"):
        allow()
