"""The catalog's domain modules import no I/O: no database, bus, HTTP, clock or randomness."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import services.catalog

pytestmark = pytest.mark.unit

DOMAIN = ("rules.py", "msmes.py", "nibs.py", "products.py")
ALLOWED = {
    "__future__", "collections", "dataclasses", "datetime", "decimal", "re", "typing", "uuid", "msgspec",
    "events.base", "events.catalog", "events.common", "services.catalog", "shared.currencies",
    "shared.decider", "shared.errors", "shared.geography", "shared.units",
}  # fmt: skip


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("module", DOMAIN)
def test_a_domain_module_imports_only_pure_code(module: str) -> None:
    path = Path(services.catalog.__file__).parent / module
    forbidden = {
        name
        for name in imported_modules(path)
        if not any(name == allowed or name.startswith(f"{allowed}.") for allowed in ALLOWED)
    }
    assert forbidden == set()
