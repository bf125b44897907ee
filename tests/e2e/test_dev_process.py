"""`gotong dev` as a real process on a data directory of its own: one per data directory, and whatever stops it
(SIGTERM, Ctrl-C, SIGKILL and a restart) leaves no embedded server and no servers.json behind."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from shared.dev.processes import command_line, process_state, wait_for
from tests.e2e.processes import CLI, GotongProcess, gotong_env, start, stop, wait_ready

pytestmark = pytest.mark.e2e
STOP_TIMEOUT = 20.0
"""Seconds `gotong dev` may take to stop its servers and exit (a few, on an idle machine)."""


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """A fresh data directory under /tmp (the embedded PostgreSQL's user must be able to enter it)."""
    folder = Path(tempfile.mkdtemp(prefix="gotong-test-dev-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        for pid in processes_of(folder):  # only if a test failed half-way
            os.kill(pid, signal.SIGKILL)
        shutil.rmtree(folder, ignore_errors=True)


def processes_of(data_dir: Path) -> list[int]:
    """Every running process started with an argument inside `data_dir` (postmaster, nats-server)."""
    pids = [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]
    return [
        pid
        for pid in pids
        if process_state(pid) == "running" and any(str(data_dir) in argument for argument in command_line(pid))
    ]


def dev_env(data_dir: Path) -> dict[str, str]:
    return gotong_env({"GOTONG_DATA_DIR": str(data_dir)})


def servers_of(data_dir: Path) -> tuple[int, int]:
    """The pids of the PostgreSQL postmaster and the nats-server running on `data_dir`."""
    postmaster = int((data_dir / "postgres" / "pgdata" / "postmaster.pid").read_text().split()[0])
    nats = int((data_dir / "nats" / "nats.pid").read_text().split()[0])
    return postmaster, nats


async def start_dev(name: str, data_dir: Path, logs: Path) -> GotongProcess:
    dev = start(name, ["dev"], dev_env(data_dir), logs)
    try:
        await wait_ready([dev])
    except BaseException:
        stop([dev])
        raise
    return dev


def assert_stopped_cleanly(dev: GotongProcess, data_dir: Path, servers: tuple[int, ...], code: int) -> None:
    try:
        assert dev.process.wait(timeout=STOP_TIMEOUT) == code, dev.output()
    except subprocess.TimeoutExpired:
        stop([dev])
        raise AssertionError(f"gotong dev did not stop within {STOP_TIMEOUT:g} s:\n{dev.output()}") from None
    for pid in servers:
        wait_for(lambda pid=pid: process_state(pid) != "running", timeout=10, what=f"exit of server {pid}")
    assert processes_of(data_dir) == [], dev.output()
    assert not (data_dir / "servers.json").exists()
    assert not (data_dir / "dev.lock").exists()


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_gotong_dev_stops_postgres_and_nats_and_removes_servers_json_on(
    stop_signal: signal.Signals, data_dir: Path, logs: Path
) -> None:
    dev = await start_dev(f"dev-{stop_signal.name}", data_dir, logs)
    servers = servers_of(data_dir)
    assert all(process_state(pid) == "running" for pid in servers)
    assert (data_dir / "servers.json").exists()

    dev.process.send_signal(stop_signal)

    assert_stopped_cleanly(dev, data_dir, servers, 128 + stop_signal)


async def test_a_second_gotong_dev_on_the_same_data_dir_refuses_at_once_and_touches_nothing(
    data_dir: Path, logs: Path
) -> None:
    first = await start_dev("dev-first", data_dir, logs)
    servers = servers_of(data_dir)
    written = (data_dir / "servers.json").read_text()

    started = time.monotonic()
    second = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CLI, "dev", "--port", "0",
        env=dev_env(data_dir), stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        _, err = await asyncio.wait_for(second.communicate(), 60)
    except TimeoutError:
        second.kill()
        await second.wait()
        raise AssertionError("the second gotong dev did not refuse: it kept running") from None
    refusal = err.decode()
    assert time.monotonic() - started < 15
    assert second.returncode == 1, refusal
    assert f"pid {first.process.pid}" in refusal and f"port {first.port}" in refusal, refusal
    assert str(data_dir) in refusal

    assert all(process_state(pid) == "running" for pid in servers)
    assert (data_dir / "servers.json").read_text() == written
    async with httpx.AsyncClient(timeout=10) as client:
        assert (await client.get(f"{first.url}/ready")).status_code == 200

    first.process.send_signal(signal.SIGTERM)
    assert_stopped_cleanly(first, data_dir, servers, 128 + signal.SIGTERM)


async def test_gotong_dev_after_a_killed_one_stops_its_leftover_servers_and_starts(data_dir: Path, logs: Path) -> None:
    killed = await start_dev("dev-killed", data_dir, logs)
    left = servers_of(data_dir)
    killed.process.kill()
    killed.process.wait(timeout=10)
    assert all(process_state(pid) == "running" for pid in left)  # the servers outlive a SIGKILL
    assert json.loads((data_dir / "dev.lock").read_text())["pid"] == killed.process.pid

    again = await start_dev("dev-again", data_dir, logs)
    for pid in left:
        assert process_state(pid) != "running"
    servers = servers_of(data_dir)
    assert set(servers).isdisjoint(left)

    again.process.send_signal(signal.SIGTERM)
    assert_stopped_cleanly(again, data_dir, servers, 128 + signal.SIGTERM)
