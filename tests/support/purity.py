"""What a module imports and calls, read from its source: the services' domain-purity tests share it."""

from __future__ import annotations

import ast
from importlib.util import find_spec
from pathlib import Path


def source(module: str) -> str:
    spec = find_spec(module)
    assert spec is not None and spec.origin is not None, f"no module {module}"
    return Path(spec.origin).read_text(encoding="utf-8")


def imports(module: str) -> list[tuple[str, list[str]]]:
    """Each import of ``module``: the imported module and the names taken from it (none for ``import x``)."""
    found: list[tuple[str, list[str]]] = []
    for node in ast.walk(ast.parse(source(module))):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.module, [alias.name for alias in node.names]))
    return found


def imported_modules(module: str) -> set[str]:
    return {name for name, _ in imports(module)}


def called_names(module: str) -> set[str]:
    """The names ``module`` calls: ``f(...)`` and ``x.f(...)`` both give ``f``."""
    called: set[str] = set()
    for node in ast.walk(ast.parse(source(module))):
        if isinstance(node, ast.Call):
            target = node.func
            called.add(target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", ""))
    return called
