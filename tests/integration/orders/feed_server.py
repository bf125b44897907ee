"""The orders service as its own server process, for tests of its live feed: ``uvicorn --factory ...:create``."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from litestar import Litestar

from services.orders.api import feed
from services.orders.app import service
from shared.config import Settings
from shared.dev import free_port
from shared.http import create_app
from shared.logs import configure_logging
from tests.support.app import SECRET


def create() -> Litestar:
    settings = Settings.from_env()
    configure_logging(settings.log_level, as_json=False)
    if heartbeat := os.environ.get("GOTONG_TEST_FEED_HEARTBEAT_SECONDS"):
        feed.HEARTBEAT_SECONDS = float(heartbeat)
    return create_app(settings, [service])


@contextmanager
def feed_server_process(
    database_url: str, nats_url: str, prefix: str, **extra_env: str
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Run ``create`` under uvicorn in a process of its own on a free port; yields its URL and process."""
    port = free_port()
    env = {
        **os.environ,
        "GOTONG_DATABASE_URL": database_url,
        "GOTONG_NATS_URL": nats_url,
        "GOTONG_NATS_PREFIX": prefix,
        "GOTONG_JWT_SECRET": SECRET,
        "GOTONG_POOL_SIZE": "4",
        "GOTONG_LOG_LEVEL": "WARNING",
        **extra_env,
    }
    command = [sys.executable, "-m", "uvicorn", "--factory", "tests.integration.orders.feed_server:create"]
    process = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port), "--lifespan", "on", "--log-level", "warning"],
        cwd=Path(__file__).resolve().parents[3],
        env=env,
    )
    try:
        yield f"http://127.0.0.1:{port}", process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


async def until_up(base: str, process: subprocess.Popen[bytes]) -> None:
    """Wait (60 s at most) until the server at ``base`` answers its health check; fail if it exits first."""
    async with httpx.AsyncClient(base_url=base) as http, asyncio.timeout(60):
        while True:
            assert process.poll() is None, "the orders server process exited"
            try:
                if (await http.get("/health")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
