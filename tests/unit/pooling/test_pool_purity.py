"""Pooling's domain modules import nothing that does I/O: only the standard library, msgspec, the events,
each other and the pure parts of ``shared`` (the ``Decider`` type, errors, geography). The allocation engine
also uses HiGHS and numpy (pure computation) and ``time.perf_counter`` to keep to its time limit."""

from __future__ import annotations

import pkgutil

import pytest

import services.pooling.domain
from tests.support.purity import called_names, imported_modules

pytestmark = pytest.mark.unit

DOMAIN = sorted(
    f"services.pooling.domain.{info.name}" for info in pkgutil.iter_modules(services.pooling.domain.__path__)
)
ALLOWED = {
    "__future__", "collections", "dataclasses", "datetime", "decimal", "enum", "heapq", "math", "typing", "uuid",
    "msgspec", "events",
}  # fmt: skip
ENGINE = {"highspy", "numpy", "time"}
ENGINE_MODULES = {
    "allocation", "allocation_bound", "allocation_mip", "allocation_model", "allocation_offers",
    "allocation_program", "allocation_restricted",
}  # fmt: skip
ALLOWED_SHARED = "shared.kernel."  # the pure kernel (tests/unit/test_domain_purity.py imports it without I/O)


def test_every_domain_module_is_checked() -> None:
    assert {"pool", "pool_state", "allocation_request", "capacity_ledger", "allocation_mip"} <= {
        module.rsplit(".", 1)[1] for module in DOMAIN
    }


@pytest.mark.parametrize("module", DOMAIN)
def test_a_domain_module_imports_nothing_that_does_io(module: str) -> None:
    engine = module.rsplit(".", 1)[1] in ENGINE_MODULES
    for name in imported_modules(module):
        top = name.split(".")[0]
        if top in ALLOWED or name.startswith("services.pooling.domain.") or (engine and top in ENGINE):
            continue
        assert name.startswith(ALLOWED_SHARED), f"{module} imports {name}"


@pytest.mark.parametrize("module", DOMAIN)
def test_a_domain_module_reads_no_clock(module: str) -> None:
    assert called_names(module) & {"now", "utcnow", "today", "time", "random", "uuid4", "new_id"} == set()
