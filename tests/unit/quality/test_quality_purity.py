"""Quality's domain modules import nothing that does I/O: of the platform only deciders and errors."""

from __future__ import annotations

import pkgutil

import pytest

from services.quality import domain
from tests.support.purity import imported_modules, source

pytestmark = pytest.mark.unit

DOMAIN = sorted(m.name for m in pkgutil.iter_modules(domain.__path__))
ALLOWED_PLATFORM = {"shared.kernel.decider", "shared.kernel.errors"}
IO = ("asyncpg", "nats", "litestar", "sqlalchemy", "httpx", "random", "socket", "time", "shared")


@pytest.mark.parametrize("module", DOMAIN)
def test_a_domain_module_imports_no_io_and_of_the_platform_only_deciders_and_errors(module: str) -> None:
    imported = imported_modules(f"services.quality.domain.{module}") - ALLOWED_PLATFORM
    offending = sorted(name for name in imported if name.split(".")[0] in IO or name in IO)
    assert offending == [], f"services/quality/domain/{module}.py imports {offending}"
    assert ".now(" not in source(f"services.quality.domain.{module}"), "time arrives on the command, never from a clock"


def test_every_module_of_the_domain_is_checked() -> None:
    assert {"standard", "inspection", "quality_record", "sampling", "switching"} <= set(DOMAIN)
