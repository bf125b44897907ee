"""Quality's domain modules import nothing that does I/O: of the platform only deciders and errors."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import services.quality

pytestmark = pytest.mark.unit

DOMAIN = ["standards", "inspections", "verdicts", "record", "assessment", "scoring", "sampling", "switching"]
ALLOWED_PLATFORM = {"shared.decider", "shared.errors"}
IO = ("asyncpg", "nats", "litestar", "sqlalchemy", "httpx", "random", "socket", "time", "shared")


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("module", DOMAIN)
def test_a_domain_module_imports_no_io_and_of_the_platform_only_deciders_and_errors(module: str) -> None:
    path = Path(services.quality.__file__).parent / f"{module}.py"
    imported = imported_modules(path) - ALLOWED_PLATFORM
    offending = sorted(name for name in imported if name.split(".")[0] in IO or name in IO)
    assert offending == [], f"services/quality/{module}.py imports {offending}"
    assert ".now(" not in path.read_text(encoding="utf-8"), "time arrives on the command, never from a clock"
