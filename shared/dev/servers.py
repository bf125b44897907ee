"""The servers `gotong dev` runs on: embedded PostgreSQL and NATS unless GOTONG_* names others."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import Any

import asyncpg

from shared.config import Settings
from shared.database import with_database
from shared.migrations import migrate
from shared.service import load_services

DATABASE = "gotong"
LOCK_FILE = "dev.lock"


class DataDirInUse(RuntimeError):
    """Another `gotong dev` runs on this data directory."""


class DevLock:
    """The mark of the one `gotong dev` using a data directory: an flock on a file naming its pid and port.

    The kernel releases the lock when its holder dies, however it dies, so a killed run's leftovers are
    cleaned up by the next start while a live run is never disturbed.
    """

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LOCK_FILE
        self._fd: int | None = None

    def acquire(self, host: str, port: int) -> None:
        """Take the lock or raise DataDirInUse naming its holder; touches nothing held by someone else."""
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _holder(fd)
                os.close(fd)
                raise DataDirInUse(
                    f"{self.path.parent} is in use by another `gotong dev` ({holder}); stop it first, "
                    "or give this one another --data-dir"
                ) from None
            try:
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if not same:  # its holder removed the file as we opened it: lock the file that is there now
                os.close(fd)
                continue
            os.ftruncate(fd, 0)
            os.write(fd, json.dumps({"pid": os.getpid(), "host": host, "port": port}).encode())
            self._fd = fd
            return

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        """Remove the file, then let go of the lock (in this order, so nobody locks a file about to vanish)."""
        if self._fd is None:
            return
        self.path.unlink(missing_ok=True)
        os.close(self._fd)
        self._fd = None


def _holder(fd: int) -> str:
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        written = json.loads(os.pread(fd, 4096, 0))
        return f"pid {int(written['pid'])}, port {int(written['port'])}: http://{written['host']}:{written['port']}"
    return "just starting"


async def ensure_database(server_url: str, name: str = DATABASE) -> str:
    connection = await asyncpg.connect(server_url)
    try:
        if not await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await connection.execute(f"CREATE DATABASE {name}")
    finally:
        await connection.close()
    return with_database(server_url, name)


async def migrate_all(settings: Settings, names: Sequence[str] | None = None) -> dict[str, list[str]]:
    assert settings.database_url
    connection = await asyncpg.connect(settings.database_url)
    try:
        return {s.name: await migrate(connection, s.name, s.migrations) for s in load_services(names)}
    finally:
        await connection.close()


class DevServers:
    """Start what is missing (embedded servers in the data directory), migrate, and stop it all on exit.

    Only one at a time per data directory: a second refuses (DataDirInUse) before touching anything.
    """

    def __init__(self, settings: Settings, *, nats_nodes: int = 1) -> None:
        self.settings = settings
        self.nats_nodes = nats_nodes
        self._stoppers: list[Any] = []
        self._servers_file = settings.data_dir / "servers.json"
        self._lock = DevLock(settings.data_dir)

    def __enter__(self) -> DevServers:
        from shared.dev import start_nats, start_nats_cluster, start_postgres

        data_dir = self.settings.data_dir.resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        self._lock.acquire(self.settings.host, self.settings.port)
        if os.geteuid() == 0:
            data_dir.chmod(0o755)  # PostgreSQL runs as an unprivileged user and must reach its directory
        database_url = self.settings.database_url
        nats_url = self.settings.nats_url
        try:
            if not database_url:
                postgres = start_postgres(data_dir / "postgres", durable=True)
                self._stoppers.append(postgres.stop)
                database_url = asyncio.run(ensure_database(postgres.dsn))
            replicas = self.settings.stream_replicas
            if not nats_url and self.nats_nodes > 1:
                cluster = start_nats_cluster(data_dir / "nats-cluster", size=self.nats_nodes)
                self._stoppers.append(cluster.stop)
                nats_url = ",".join(cluster.urls)
                replicas = max(replicas, min(self.nats_nodes, 3))
            elif not nats_url:
                nats = start_nats(data_dir / "nats")
                self._stoppers.append(nats.stop)
                nats_url = nats.url
            self.settings = replace(
                self.settings, database_url=database_url, nats_url=nats_url, stream_replicas=replicas
            )
            asyncio.run(migrate_all(self.settings))
            self._servers_file.write_text(json.dumps({"database_url": database_url, "nats_url": nats_url}))
        except BaseException:
            self._stop()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._stop()

    def _stop(self) -> None:
        try:
            if self._lock.held:
                self._servers_file.unlink(missing_ok=True)
            for stop in reversed(self._stoppers):
                stop()
            self._stoppers.clear()
        finally:
            self._lock.release()


__all__ = ["DataDirInUse", "DevLock", "DevServers", "Path", "ensure_database", "migrate_all"]
