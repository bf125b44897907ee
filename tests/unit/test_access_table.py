"""The README's table of who may call each route is the authorization matrix's rules, written out."""

from __future__ import annotations

import pytest

from tests.e2e.authz.table import README, render, written

pytestmark = pytest.mark.unit


def test_the_readme_shows_what_the_authorization_matrix_tests() -> None:
    assert written(README.read_text()) == render(), "the table is stale: run python -m tests.e2e.authz.table"
