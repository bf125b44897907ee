"""Pooling's domain modules import nothing that does I/O: only the standard library, msgspec, the events,
each other, the allocation engine and the pure parts of ``shared`` (the ``Decider`` type, errors, geography)."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

PURE = [
    "services.pooling.lines",
    "services.pooling.pool_state",
    "services.pooling.pool_commands",
    "services.pooling.pool",
    "services.pooling.pool_lots",
    "services.pooling.requests",
    "services.pooling.capacity",
    "services.pooling.order_demand",
    "services.pooling.candidates",
]
ALLOWED = {"__future__", "collections", "dataclasses", "datetime", "decimal", "typing", "uuid", "msgspec", "events"}
ALLOWED_SHARED = {"shared.decider": {"Decider"}, "shared.errors": None, "shared.geography": {"distance_km"}}


def imports(module: str) -> list[tuple[str, list[str]]]:
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None
    tree = ast.parse(Path(spec.origin).read_text())
    found: list[tuple[str, list[str]]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.module, [alias.name for alias in node.names]))
    return found


@pytest.mark.parametrize("module", PURE)
def test_a_decider_module_imports_nothing_that_does_io(module: str) -> None:
    for name, names in imports(module):
        if name.split(".")[0] in ALLOWED or name.startswith("services.pooling."):
            continue
        assert name in ALLOWED_SHARED, f"{module} imports {name}"
        allowed = ALLOWED_SHARED[name]
        assert allowed is None or set(names) <= allowed, f"{module} imports {names} from {name}"
