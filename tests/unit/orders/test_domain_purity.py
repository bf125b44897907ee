"""The orders domain does no I/O: its modules import no I/O package and never read the clock or make ids."""

from __future__ import annotations

import pkgutil

import pytest

import services.orders.domain
from tests.support.purity import called_names, imported_modules

pytestmark = pytest.mark.unit

DOMAIN = sorted(
    module.name for module in pkgutil.walk_packages(services.orders.domain.__path__, "services.orders.domain.")
)
IO = {
    "asyncpg",
    "nats",
    "litestar",
    "sqlalchemy",
    "httpx",
    "uvicorn",
    "random",
    "shared.kernel.clock",
    "shared.kernel.ids",
}
IO_CALLS = {"now", "utcnow", "today", "uuid4", "uuid7", "new_id"}
OUTSIDE_THE_DOMAIN = ("services.orders.api", "services.orders.read", "services.orders.commands")


def test_every_domain_module_is_checked() -> None:
    assert {"services.orders.domain.order", "services.orders.domain.buyer"} <= set(DOMAIN)


@pytest.mark.parametrize("module", DOMAIN)
def test_a_domain_module_imports_no_io_and_reads_no_clock(module: str) -> None:
    imported, called = imported_modules(module), called_names(module)
    forbidden = {name for name in imported if name in IO or name.split(".")[0] in IO}
    assert not forbidden, f"{module} imports {forbidden}"
    assert not called & IO_CALLS, f"{module} calls {called & IO_CALLS}"
    outside = {name for name in imported if name.startswith(OUTSIDE_THE_DOMAIN)}
    assert not outside, f"{module} imports {outside} from outside the domain"
