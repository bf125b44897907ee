"""Building the migrated template database the tests clone."""

from __future__ import annotations

import os

import asyncpg

from shared.database import create_database, drop_database
from shared.migrations import migrate
from shared.service import load_services


def template_name() -> str:
    return f"gotong_template_{os.getpid()}"


async def build_template(server_url: str, name: str) -> None:
    await drop_database(server_url, name)
    url = await create_database(server_url, name)
    connection = await asyncpg.connect(url)
    try:
        for service in load_services():
            await migrate(connection, service.name, service.migrations)
    finally:
        await connection.close()
