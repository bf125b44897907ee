"""`bench/load.py --quick` as CI runs it: the seven services under a small mixed workload, on the session's
PostgreSQL and NATS. It fails on any failed request or effect that never arrives, never on timing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Servers
from tests.e2e.processes import gotong_env

pytestmark = pytest.mark.e2e
BENCH = Path(__file__).resolve().parents[2] / "bench" / "load.py"


def test_the_quick_load_benchmark_runs_without_an_error(servers: Servers) -> None:
    env = gotong_env({"GOTONG_DATABASE_URL": servers.postgres_url, "GOTONG_NATS_URL": servers.nats_url})
    finished = subprocess.run(
        [sys.executable, str(BENCH), "--quick"], env=env, capture_output=True, text=True, timeout=900, check=False
    )
    report = f"{finished.stdout}\n{finished.stderr}"
    assert finished.returncode == 0, report
    assert "| errors |" in finished.stdout and "FAILED" not in report
