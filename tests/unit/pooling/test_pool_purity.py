"""Pooling's domain modules import nothing that does I/O: only the standard library, msgspec, the events,
each other, the allocation engine and the pure parts of ``shared`` (the ``Decider`` type, errors, geography)."""

from __future__ import annotations

import pytest

from tests.support.purity import imports

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


@pytest.mark.parametrize("module", PURE)
def test_a_decider_module_imports_nothing_that_does_io(module: str) -> None:
    for name, names in imports(module):
        if name.split(".")[0] in ALLOWED or name.startswith("services.pooling."):
            continue
        assert name in ALLOWED_SHARED, f"{module} imports {name}"
        allowed = ALLOWED_SHARED[name]
        assert allowed is None or set(names) <= allowed, f"{module} imports {names} from {name}"
