"""The catalog's domain modules import no I/O: no database, bus, HTTP, clock or randomness."""

from __future__ import annotations

import pytest

from tests.support.purity import imported_modules

pytestmark = pytest.mark.unit

DOMAIN = ("rules.py", "msmes.py", "nibs.py", "products.py")
ALLOWED = {
    "__future__", "collections", "dataclasses", "datetime", "decimal", "re", "typing", "uuid", "msgspec",
    "events.base", "events.catalog", "events.common", "services.catalog", "shared.currencies",
    "shared.decider", "shared.errors", "shared.geography", "shared.units",
}  # fmt: skip


@pytest.mark.parametrize("module", DOMAIN)
def test_a_domain_module_imports_only_pure_code(module: str) -> None:
    forbidden = {
        name
        for name in imported_modules(f"services.catalog.{module.removesuffix('.py')}")
        if not any(name == allowed or name.startswith(f"{allowed}.") for allowed in ALLOWED)
    }
    assert forbidden == set()
