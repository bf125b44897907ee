"""Hostile input over the whole API, generated from the OpenAPI document: never a server error.

Schemathesis sends thousands of generated requests (valid and invalid, every operation, as each role) to
one `gotong serve` process with all four services; any 5xx fails the test, with the reproducing request.
Sizes are bounded so the suite stays fast (fewer examples under CI=true).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from shared.auth import Role, TokenAuthority
from tests.e2e.processes import GotongProcess, start, stop, wait_ready

pytestmark = pytest.mark.e2e
EXAMPLES = "6" if os.environ.get("CI") else "15"


@pytest.fixture(scope="module")
async def gotong(module_env: dict[str, str], logs: Path) -> AsyncIterator[GotongProcess]:
    served = start("fuzzed", ["serve"], module_env, logs)
    try:
        await wait_ready([served])
        yield served
    finally:
        stop([served])


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MSME, Role.BUYER])
async def test_no_generated_request_gets_a_server_error(
    gotong: GotongProcess, module_env: dict[str, str], role: Role
) -> None:
    st = shutil.which("st", path=str(Path(sys.executable).parent))
    if st is None:
        pytest.skip("schemathesis is not installed")
    token = TokenAuthority(secret=module_env["GOTONG_JWT_SECRET"]).issue(sub="fuzzer", role=role, org=f"fz-{role}")
    process = await asyncio.create_subprocess_exec(
        st, "run", f"{gotong.url}/schema/openapi.json",
        "--header", f"Authorization: Bearer {token}",
        "--checks", "not_a_server_error",
        "--max-examples", EXAMPLES, "--workers", "2", "--seed", "20261125",
        "--exclude-path-regex", "/events$",  # the live feed streams until closed
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(process.communicate(), 280)
    report = out.decode(errors="replace")
    assert process.returncode == 0, report[-6000:]
    assert "unhandled error" not in gotong.output(400)
