"""The servers `gotong dev` runs on: embedded PostgreSQL and NATS unless GOTONG_* names others."""

from __future__ import annotations

import asyncio
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
    """Start what is missing (embedded servers in the data directory), migrate, and stop it all on exit."""

    def __init__(self, settings: Settings, *, nats_nodes: int = 1) -> None:
        self.settings = settings
        self.nats_nodes = nats_nodes
        self._stoppers: list[Any] = []
        self._servers_file = settings.data_dir / "servers.json"

    def __enter__(self) -> DevServers:
        from shared.embedded import start_nats, start_nats_cluster, start_postgres

        data_dir = self.settings.data_dir.resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
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
        self._servers_file.unlink(missing_ok=True)
        for stop in reversed(self._stoppers):
            stop()
        self._stoppers.clear()


__all__ = ["DevServers", "Path", "ensure_database", "migrate_all"]
