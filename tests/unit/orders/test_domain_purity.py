"""The orders domain does no I/O: its modules import no I/O package and never read the clock or make ids."""

from __future__ import annotations

import pytest

from tests.support.purity import called_names, imported_modules

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


@pytest.mark.parametrize("module", DOMAIN)
def test_a_domain_module_imports_no_io_and_reads_no_clock(module: str) -> None:
    imported, called = imported_modules(module), called_names(module)
    forbidden = {name for name in imported if name in IO or name.split(".")[0] in IO}
    assert not forbidden, f"{module} imports {forbidden}"
    assert not called & IO_CALLS, f"{module} calls {called & IO_CALLS}"
