"""The catalog's domain modules import no I/O: no database, bus, HTTP, clock or randomness."""

from __future__ import annotations

import pkgutil

import pytest

import services.catalog.domain
from tests.support.purity import imported_modules

pytestmark = pytest.mark.unit

DOMAIN = sorted(
    f"{services.catalog.domain.__name__}.{module.name}"
    for module in pkgutil.iter_modules(services.catalog.domain.__path__)
)
ALLOWED = {
    "__future__", "collections", "dataclasses", "datetime", "decimal", "re", "typing", "uuid", "msgspec",
    "events.base", "events.catalog", "events.common", "services.catalog.domain", "shared.kernel",
    "shapely", "pyproj",  # geometry and geodesy: computation only
}  # fmt: skip


def test_every_domain_module_is_checked() -> None:
    assert {"msme", "nib", "product", "rules", "plot", "geometry"} <= {name.rsplit(".", 1)[1] for name in DOMAIN}


@pytest.mark.parametrize("module", DOMAIN)
def test_a_domain_module_imports_only_pure_code(module: str) -> None:
    forbidden = {
        name
        for name in imported_modules(module)
        if not any(name == allowed or name.startswith(f"{allowed}.") for allowed in ALLOWED)
    }
    assert forbidden == set()
