"""End-to-end fixtures: Gotong's services as separate processes on a database and NATS prefix of the module's own."""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator, Iterator, Mapping
from pathlib import Path

import pytest

from shared.database import create_database, drop_database
from shared.kernel.ids import new_id
from tests.conftest import Servers
from tests.e2e.processes import GotongProcess, gotong_env, start, stop, wait_ready
from tests.support.app import SECRET

SERVICES = ("catalog", "orders", "pooling", "quality")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failed test's report shows each Gotong process it ran on: an effect that did not happen in time is
    traced to the relay, projection or consumer that stood still."""
    report = yield
    if report.failed and report.when == "call":
        for served in _processes(list(getattr(item, "funcargs", {}).values())):
            report.sections.append((f"gotong {served.name} (port {served.port})", served.state()))
    return report


def _processes(value: object) -> list[GotongProcess]:
    """The processes among a test's fixture values (a process, or mappings and sequences of them)."""
    if isinstance(value, GotongProcess):
        return [value]
    if isinstance(value, Mapping):
        value = list(value.values())
    if isinstance(value, list | tuple):
        return list({id(served): served for item in value for served in _processes(item)}.values())
    return []


@pytest.fixture(scope="module")
async def module_database(servers: Servers, template_database: str) -> AsyncIterator[str]:
    """A database of this module's own, cloned from the migrated template."""
    name = f"gotong_e2e_{new_id().hex}"
    url = await create_database(servers.postgres_url, name, template=template_database)
    try:
        yield url
    finally:
        await drop_database(servers.postgres_url, name)


@pytest.fixture(scope="module")
def module_env(servers: Servers, module_database: str) -> dict[str, str]:
    """GOTONG_* for processes of this module: its database, the session's NATS, a prefix of its own."""
    return gotong_env(
        {
            "GOTONG_DATABASE_URL": module_database,
            "GOTONG_NATS_URL": servers.nats_url,
            "GOTONG_NATS_PREFIX": f"e{new_id().hex[-12:]}",
            "GOTONG_JWT_SECRET": SECRET,
        }
    )


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield tmp_path_factory.mktemp("gotong-logs")


@pytest.fixture(scope="module")
async def services(module_env: dict[str, str], logs: Path) -> AsyncIterator[dict[str, GotongProcess]]:
    """`gotong serve <service>` for each of the four services, each its own process on its own port."""
    processes: list[GotongProcess] = []
    try:
        for name in SERVICES:
            processes.append(start(name, ["serve", name], module_env, logs))
        await wait_ready(processes)
        yield {served.name: served for served in processes}
    finally:
        stop(processes)
