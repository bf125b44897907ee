"""The README's walk-through stays true: it is `walkthrough.sh`, and that script ships an order on `gotong dev`."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.e2e.processes import GotongProcess, start, stop, wait_ready

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("walkthrough.sh")
MARKER = "# --- the README's walk-through ---\n"
RUN_TIMEOUT = 180.0


def readme_walkthrough() -> str:
    """The bash blocks of the README's "A walk-through" section, joined in order."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## A walk-through\n", 1)[1].split("\n## ", 1)[0]
    return "".join(re.findall(r"```bash\n(.*?)```", section, flags=re.DOTALL))


def test_the_readme_walkthrough_is_the_script_the_tests_run() -> None:
    body = SCRIPT.read_text().split(MARKER, 1)[1]
    assert readme_walkthrough() == body


@pytest.fixture(scope="module")
async def gotong_dev(
    module_env: dict[str, str], logs: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[GotongProcess]:
    """`gotong dev` in a directory of its own (where it keeps its development secret), on this module's database."""
    directory = tmp_path_factory.mktemp("gotong-dev")
    env = {k: v for k, v in module_env.items() if k != "GOTONG_JWT_SECRET"}
    served = start("dev", ["dev"], env, logs, cwd=directory)
    try:
        await wait_ready([served])
        yield served
    finally:
        stop([served])


@pytest.mark.skipif(not (shutil.which("jq") and shutil.which("curl")), reason="the walk-through uses curl and jq")
async def test_the_walkthrough_ships_an_order_on_gotong_dev(gotong_dev: GotongProcess) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOTONG_")}
    env |= {"GOTONG": gotong_dev.url, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"}
    process = await asyncio.create_subprocess_exec(
        "bash", "-e", str(SCRIPT),
        cwd=gotong_dev.cwd, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        output, _ = await asyncio.wait_for(process.communicate(), RUN_TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    told = output.decode()
    assert process.returncode == 0, f"{told}\n--- gotong dev ---\n{gotong_dev.output()}"
    assert "Shipped by aggregator nusantara-trading" in told
    assert '"made_by": "Rotan Jaya Cirebon"' in told
    assert "order_id,buyer_org,aggregator_org" in told
