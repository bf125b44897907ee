"""The pure parts of Gotong cannot reach I/O: every domain module of every service, the shared kernel and the
event contract import, even transitively, nothing of asyncpg, nats, litestar, sqlalchemy, uvicorn or httpx.

Each is imported in a fresh interpreter in which those packages cannot be imported at all."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("asyncpg", "nats", "litestar", "sqlalchemy", "uvicorn", "httpx")
BLOCKER = f"""
import importlib.abc, sys
class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {FORBIDDEN!r}:
            raise ImportError(f"{{name}} is I/O; the pure parts of Gotong may not import it")
        return None
sys.meta_path.insert(0, Refuse())
"""


def _modules(package: Path) -> list[str]:
    return sorted(
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for path in package.rglob("*.py")
    )


PURE = [
    *(module for domain in sorted(ROOT.glob("services/*/domain")) for module in _modules(domain)),
    *_modules(ROOT / "shared" / "kernel"),
    *_modules(ROOT / "events"),
]


def test_there_are_pure_modules_of_every_kind() -> None:
    assert {m.split(".")[1] for m in PURE if m.startswith("services.")} >= {
        "accounts",
        "catalog",
        "notifications",
        "orders",
        "pooling",
        "quality",
    }
    assert any(m.startswith("shared.kernel.") for m in PURE) and "events.base" in PURE


@pytest.mark.parametrize("module", PURE)
def test_a_pure_module_imports_no_io(module: str) -> None:
    run = subprocess.run(
        [sys.executable, "-c", f"{BLOCKER}\nimport {module}"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr[-2000:]


def test_the_blocker_does_refuse_io() -> None:
    run = subprocess.run(
        [sys.executable, "-c", f"{BLOCKER}\nimport shared.eventstore"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode != 0 and "asyncpg is I/O" in run.stderr
