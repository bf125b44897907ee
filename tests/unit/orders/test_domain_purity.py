"""The orders domain does no I/O: its modules import no I/O package and never read the clock or make ids."""

from __future__ import annotations

import ast
from importlib.util import find_spec
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

DOMAIN = [
    "services.orders.order",
    "services.orders.order_state",
    "services.orders.order_commands",
    "services.orders.buyer",
    "services.orders.rules",
    "services.orders.history",
    "services.orders.line_progress",
    "services.orders.milestones",
    "services.orders.timeline",
    "services.orders.provenance",
    "services.orders.provenance_views",
    "services.orders.provenance_csv",
]
IO = {"asyncpg", "nats", "litestar", "sqlalchemy", "httpx", "uvicorn", "random", "shared.clock", "shared.ids"}
IO_CALLS = {"now", "utcnow", "today", "uuid4", "uuid7", "new_id"}


def imports_and_calls(module: str) -> tuple[set[str], set[str]]:
    spec = find_spec(module)
    assert spec is not None and spec.origin is not None
    tree = ast.parse(Path(spec.origin).read_text())
    imported: set[str] = set()
    called: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
        elif isinstance(node, ast.Call):
            target = node.func
            called.add(target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", ""))
    return imported, called


@pytest.mark.parametrize("module", DOMAIN)
def test_a_domain_module_imports_no_io_and_reads_no_clock(module: str) -> None:
    imported, called = imports_and_calls(module)
    forbidden = {name for name in imported if name in IO or name.split(".")[0] in IO}
    assert not forbidden, f"{module} imports {forbidden}"
    assert not called & IO_CALLS, f"{module} calls {called & IO_CALLS}"
