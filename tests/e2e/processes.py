"""Gotong as real processes for end-to-end tests: `gotong serve …` (or `gotong dev`) started as subprocesses on
the session's PostgreSQL and NATS, each on a free port, ready when /ready says so, and always terminated."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from shared.dev import free_port

READY_TIMEOUT = 90.0
WATCHED_METRICS = ("gotong_consumer_", "gotong_relay_", "gotong_projection_")
CLI = "import sys; from shared.cli import main; sys.exit(main(sys.argv[1:]))"


def gotong_env(overrides: Mapping[str, str]) -> dict[str, str]:
    """This environment without any GOTONG_* of the caller's, plus ``overrides``, quiet logs and no rate limits
    (the suites send many requests, and bad tokens, from one address; tests of the limits turn them on)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOTONG_")}
    quiet = {"GOTONG_LOG_LEVEL": "WARNING", "GOTONG_POOL_SIZE": "5", "GOTONG_LOG_FORMAT": "text"}
    return env | quiet | {"GOTONG_RATE_LIMIT": "off", **overrides}


@dataclass
class GotongProcess:
    """One `gotong` command running as a child process, its port and where its output goes."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    cwd: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self, last: int = 40) -> str:
        lines = self.log.read_text(errors="replace").splitlines() if self.log.exists() else []
        return "\n".join(lines[-last:])

    def state(self) -> str:
        """What a failed test's report shows of this process: whether it runs, its /ready, where its relay,
        projections and consumers stand (/metrics), and the end of its output."""
        parts = [f"exit code: {self.process.poll()}"]
        with httpx.Client(timeout=3) as client:
            try:
                parts.append(f"/ready: {client.get(f'{self.url}/ready').text}")
                metrics = client.get(f"{self.url}/metrics").text.splitlines()
                parts += [line for line in metrics if line.startswith(WATCHED_METRICS)]
            except httpx.HTTPError as error:
                parts.append(f"not answering: {error!r}")
        return "\n".join([*parts, "output:", self.output(60)])


def start(
    name: str, arguments: Sequence[str], env: Mapping[str, str], logs: Path, cwd: Path | None = None
) -> GotongProcess:
    """Start ``gotong <arguments>`` on a free port (GOTONG_PORT)."""
    port = free_port()
    log = logs / f"{name}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-c", CLI, *arguments],
            env={**env, "GOTONG_PORT": str(port)},
            stdout=sink,
            stderr=subprocess.STDOUT,
            cwd=cwd,
        )
    return GotongProcess(name, port, process, log, cwd)


async def wait_ready(processes: Sequence[GotongProcess], timeout: float = READY_TIMEOUT) -> None:
    """Wait until every process answers 200 on /ready; fail with its output if one exits or time runs out."""
    deadline = time.monotonic() + timeout
    waiting = list(processes)
    async with httpx.AsyncClient(timeout=2) as client:
        while waiting:
            for served in list(waiting):
                if served.process.poll() is not None:
                    raise AssertionError(f"gotong {served.name} exited:\n{served.output()}")
                try:
                    if (await client.get(f"{served.url}/ready")).status_code == 200:
                        waiting.remove(served)
                except httpx.TransportError:
                    pass
            if waiting and time.monotonic() > deadline:
                raise AssertionError(f"gotong {waiting[0].name} not ready in {timeout:.0f} s:\n{waiting[0].output()}")
            if waiting:
                await asyncio.sleep(0.2)


def stop(processes: Sequence[GotongProcess], grace: float = 15.0) -> None:
    """Terminate (SIGTERM) each process started here, then kill any that outlives ``grace`` seconds."""
    for served in processes:
        if served.process.poll() is None:
            served.process.terminate()
    deadline = time.monotonic() + grace
    for served in processes:
        try:
            served.process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            served.process.kill()
            served.process.wait(timeout=5)
