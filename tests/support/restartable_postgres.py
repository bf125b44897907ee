"""A PostgreSQL of a test's own, which the test may stop, kill and start again on the same port and data."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from shared.embedded import EmbeddedPostgres, start_postgres
from shared.embedded_processes import process_state


class RestartablePostgres:
    """One embedded server: ``stop()`` shuts it down, ``kill()`` kills its postmaster with SIGKILL (a crash),
    ``start()`` brings it back on the same port with the same data (after crash recovery)."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.server: EmbeddedPostgres = start_postgres(data_dir)  # durable: a crash loses no commit
        self.port = self.server.port

    def url(self, database: str = "postgres") -> str:
        return self.server.dsn_for(database)

    async def stop(self) -> None:
        await asyncio.to_thread(self.server.stop)

    async def kill(self) -> None:
        pid = self.server.pid
        os.kill(pid, signal.SIGKILL)
        self.server._stopped = True
        for _ in range(500):  # its parent (init) reaps it at once; wait at most 10 s
            if process_state(pid) != "running":
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"postmaster {pid} survived SIGKILL")

    async def start(self) -> None:
        self.server = await asyncio.to_thread(start_postgres, self.data_dir, port=self.port)


@contextmanager
def restartable_postgres() -> Iterator[RestartablePostgres]:
    base = Path(tempfile.mkdtemp(prefix="gotong-test-outage-"))
    base.chmod(0o755)  # the embedded PostgreSQL runs as an unprivileged user when we are root
    postgres = RestartablePostgres(base / "postgres")
    try:
        yield postgres
    finally:
        postgres.server.stop()
        shutil.rmtree(base, ignore_errors=True)
