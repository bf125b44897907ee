"""Hostile input over the whole API, generated from the OpenAPI document: never a server error, never an
answer the document does not describe.

Schemathesis sends thousands of generated requests (valid and invalid, every operation, as each of the five
roles) to one `gotong serve` process with all four services, with every check it has: any 5xx, any status,
content type, header or body the document does not describe, any invalid input accepted, fails the test with
the reproducing request. One check is left out: ``positive_data_acceptance`` expects every request that fits
the document to succeed, but Gotong also refuses, with a 422 naming the field, what a schema cannot say (a
standard it does not know, a city that is not an Indonesian regency, a cursor it did not issue, rules across
fields). Sizes are bounded so the suite stays fast (fewer examples under CI=true); one worker, since the
coverage phase's parser is not thread-safe on CPython 3.11.7.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from shared.auth import CLAIMABLE_ROLES, Role, TokenAuthority
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


@pytest.mark.parametrize("role", [r for r in Role if r in CLAIMABLE_ROLES])
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
        "--checks", "all", "--exclude-checks", "positive_data_acceptance",
        "--max-examples", EXAMPLES, "--workers", "1", "--seed", "20261206",
        "--exclude-path-regex", "/events$",  # the live feed streams until closed
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(process.communicate(), 280)
    report = out.decode(errors="replace")
    assert process.returncode == 0, report[-6000:]
    assert "unhandled error" not in gotong.output(400)
