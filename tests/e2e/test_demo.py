"""`gotong demo` against one `gotong serve` process with all four services: the order ships, twice in a row."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.e2e.processes import CLI, GotongProcess, start, stop, wait_ready

pytestmark = pytest.mark.e2e
DEMO_TIMEOUT = 240.0


@pytest.fixture(scope="module")
async def gotong(module_env: dict[str, str], logs: Path) -> AsyncIterator[GotongProcess]:
    served = start("all-services", ["serve"], module_env, logs)
    try:
        await wait_ready([served])
        yield served
    finally:
        stop([served])


async def demo(gotong: GotongProcess, env: dict[str, str], msmes: int) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CLI, "demo", "--url", gotong.url, "--msmes", str(msmes),
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        out, err = await asyncio.wait_for(process.communicate(), DEMO_TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_the_demo_runs_an_order_from_request_to_shipment_and_can_run_again(
    gotong: GotongProcess, module_env: dict[str, str]
) -> None:
    code, out, err = await demo(gotong, module_env, 20)
    assert code == 0, f"{out}\n{err}\n{gotong.output()}"
    assert "MSMEs registered 20/20" in err
    for told in (
        "4 newly registered",
        "20 MSMEs across Indonesia's export hubs join the catalog",
        "declines",
        "REJECTED at normal inspection",
        "the buyer sees the order: in production",
        "the buyer sees the order: inspected",
        "the buyer sees the order: shipped",
        "Shipped by aggregator nusantara-trading",
        ", returned",
        "made by ",
        "Done in",
        "production leads agree to get allocation requests on WhatsApp",
        "What the weavers were told on WhatsApp",
        "(request, sent): Permintaan alokasi baru untuk",
        "(request_resent, sent): Permintaan ulang setelah alokasi ulang untuk",
        "(lot_rejected, sent): Lot ",
    ):
        assert told in out, f"{told!r} missing from:\n{out}"

    again, out, err = await demo(gotong, module_env, 12)
    assert again == 0, f"{out}\n{err}\n{gotong.output()}"
    assert "0 newly registered, 4 already known" in out and "the buyer sees the order: shipped" in out
