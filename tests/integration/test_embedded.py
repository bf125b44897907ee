"""Embedded PostgreSQL and NATS as `gotong dev` and the tests use them: start, keep data, survive crashes."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, Protocol, TypeVar

import asyncpg
import nats
import nats.errors
import nats.js.errors
import pytest
from nats.aio.client import Client as NatsClient

from shared.dev import (
    EmbeddedNats,
    ServerInUse,
    free_port,
    start_nats,
    start_nats_cluster,
    start_postgres,
)
from shared.dev.processes import process_state, runs_with, wait_for

pytestmark = pytest.mark.integration


class Stoppable(Protocol):
    def stop(self) -> None: ...


ServerT = TypeVar("ServerT", bound=Stoppable)
T = TypeVar("T")


class Workspace:
    """A scratch directory under /tmp, and every server started in it, stopped when the test ends."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._servers: list[Stoppable] = []

    def keep(self, server: ServerT) -> ServerT:
        self._servers.append(server)
        return server

    def stop_all(self) -> None:
        for server in reversed(self._servers):
            server.stop()


@pytest.fixture
def workspace() -> Iterator[Workspace]:
    space = Workspace(Path(tempfile.mkdtemp(prefix="gotong-test-")))  # 0700, like a fresh .gotong
    try:
        yield space
    finally:
        try:
            space.stop_all()
        finally:
            shutil.rmtree(space.root, ignore_errors=True)


async def _fetch(dsn: str, query: str) -> Any:
    connection = await asyncpg.connect(dsn)
    try:
        return await connection.fetchval(query)
    finally:
        await connection.close()


async def _execute(dsn: str, *statements: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


async def _ignore_errors(error: Exception) -> None:
    """nats-py prints a traceback for every connection error unless given a callback."""


async def _connect_nats(*urls: str) -> NatsClient:
    return await nats.connect(servers=list(urls), error_cb=_ignore_errors, max_reconnect_attempts=5)


def test_free_port_can_be_bound() -> None:
    port = free_port()
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", port))
        listener.listen()


async def test_postgres_keeps_its_tables_across_restarts(workspace: Workspace) -> None:
    pg = workspace.keep(start_postgres(workspace.root))
    assert pg.dsn == f"postgresql://postgres@127.0.0.1:{pg.port}/postgres"
    assert pg.dsn_for("orders") == f"postgresql://postgres@127.0.0.1:{pg.port}/orders"
    assert stat.S_IMODE(workspace.root.stat().st_mode) & stat.S_IXOTH
    assert await _fetch(pg.dsn, "select 1") == 1
    assert await _fetch(pg.dsn, "show fsync") == "on"
    assert await _fetch(pg.dsn, "show max_connections") == "300"
    assert await _fetch(pg.dsn, "show idle_in_transaction_session_timeout") == "1min"
    assert await _fetch(pg.dsn, "select upper('kopi ñ')") == "KOPI Ñ"
    await _execute(pg.dsn, "create table orders (id int primary key, buyer text)", "insert into orders values (1, 'X')")
    pg.stop()
    pg.stop()

    again = workspace.keep(start_postgres(workspace.root, durable=False, max_connections=50))
    assert await _fetch(again.dsn, "select buyer from orders where id = 1") == "X"
    assert await _fetch(again.dsn, "show fsync") == "off"
    assert await _fetch(again.dsn, "show synchronous_commit") == "off"
    assert await _fetch(again.dsn, "show max_connections") == "50"


async def test_postgres_starts_again_after_its_postmaster_is_killed(workspace: Workspace) -> None:
    pg = workspace.keep(start_postgres(workspace.root))
    await _execute(pg.dsn, "create table lots (id int)", "insert into lots values (7)")
    os.kill(pg.pid, signal.SIGKILL)

    again = workspace.keep(start_postgres(workspace.root, port=pg.port))
    assert again.pid != pg.pid
    assert await _fetch(again.dsn, "select id from lots") == 7


async def test_postgres_on_a_relative_gotong_dir_in_a_project(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = workspace.root / "project"
    project.mkdir(mode=0o755)
    workspace.root.chmod(0o755)
    monkeypatch.chdir(project)
    pg = workspace.keep(start_postgres(Path(".gotong") / "postgres", durable=False))
    assert pg.data_dir == project / ".gotong" / "postgres"
    assert stat.S_IMODE((project / ".gotong").stat().st_mode) & stat.S_IXOTH
    assert await _fetch(pg.dsn, "select 1") == 1


@pytest.mark.skipif(os.geteuid() != 0, reason="only root runs PostgreSQL as another user")
def test_postgres_as_root_refuses_a_data_dir_behind_a_closed_directory(workspace: Workspace) -> None:
    workspace.root.chmod(0o755)
    home = workspace.root / "home"
    home.mkdir(mode=0o700)
    with pytest.raises(PermissionError, match=f"cannot enter {home} .*chmod o\\+x {home}"):
        start_postgres(home / ".gotong", durable=False)
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert not (home / ".gotong").exists()


_KILLED_RUN = """
import os, signal, sys
from pathlib import Path
from shared.dev import start_nats, start_postgres
pg = start_postgres(Path(sys.argv[1]), durable=False)
server = start_nats(Path(sys.argv[2]))
print(pg.pid, server.pid, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_servers_left_by_a_killed_process_are_stopped_on_the_next_start(workspace: Workspace) -> None:
    pg_dir, nats_dir = workspace.root / "pg", workspace.root / "nats"
    workspace.root.chmod(0o755)
    killed = subprocess.run(
        [sys.executable, "-c", _KILLED_RUN, str(pg_dir), str(nats_dir)], capture_output=True, text=True, timeout=60
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    postmaster, nats_pid = map(int, killed.stdout.split())
    try:
        assert runs_with(postmaster, str(pg_dir / "pgdata"))
        assert runs_with(nats_pid, str(nats_dir))

        pg = workspace.keep(start_postgres(pg_dir, durable=False))
        assert pg.pid != postmaster
        assert process_state(postmaster) != "running"
        wait_for(lambda: process_state(nats_pid) != "running", timeout=15, what="orphaned nats-server exit")
    finally:
        for pid in (postmaster, nats_pid):
            if process_state(pid) == "running":
                os.kill(pid, signal.SIGKILL)


_LIVE_RUN = """
import sys
from pathlib import Path
from shared.dev import start_nats, start_postgres
pg = start_postgres(Path(sys.argv[1]), durable=False)
server = start_nats(Path(sys.argv[2]))
print(pg.pid, server.pid, flush=True)
sys.stdin.read()
server.stop()
pg.stop()
"""


def test_servers_of_a_process_that_still_runs_are_left_alone(workspace: Workspace) -> None:
    pg_dir, nats_dir = workspace.root / "pg", workspace.root / "nats"
    workspace.root.chmod(0o755)
    argv = [sys.executable, "-c", _LIVE_RUN, str(pg_dir), str(nats_dir)]
    with subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as owner:
        assert owner.stdin is not None and owner.stdout is not None
        try:
            postmaster, nats_pid = map(int, owner.stdout.readline().split())

            with pytest.raises(ServerInUse, match=f"belongs to process {owner.pid}"):
                start_postgres(pg_dir, durable=False)
            with pytest.raises(ServerInUse, match=f"belongs to process {owner.pid}"):
                start_nats(nats_dir)

            assert runs_with(postmaster, str(pg_dir / "pgdata"))
            assert runs_with(nats_pid, str(nats_dir))
        finally:
            owner.stdin.close()  # the owner stops its servers and exits
            assert owner.wait(timeout=60) == 0
    assert process_state(postmaster) != "running" and process_state(nats_pid) != "running"


async def test_jetstream_keeps_messages_when_nats_restarts_on_the_same_port(workspace: Workspace) -> None:
    server = workspace.keep(start_nats(workspace.root))
    url, monitor_port = server.url, server.monitor_port
    client = await _connect_nats(url)
    await client.jetstream().add_stream(name="ORDERS", subjects=["gotong.orders.>"])
    await client.jetstream().publish("gotong.orders.OrderPlaced", b'{"quantity": 1000}')
    await client.close()
    server.stop()
    server.stop()
    assert server.pid is None

    server.start()
    assert (server.url, server.monitor_port) == (url, monitor_port)
    client = await _connect_nats(server.url)
    try:
        stored = await client.jetstream().get_msg("ORDERS", 1)
        assert stored.data == b'{"quantity": 1000}'
    finally:
        await client.close()


async def test_nats_starts_again_after_being_killed(workspace: Workspace) -> None:
    server = workspace.keep(start_nats(workspace.root, port=free_port()))
    killed = server.pid
    assert killed is not None
    os.kill(killed, signal.SIGKILL)
    wait_for(lambda: server.pid is None, timeout=5, what="killed nats-server exit")

    server.start()
    assert server.pid not in (None, killed)
    client = await _connect_nats(server.url)
    try:
        assert (await client.jetstream().account_info()).streams == 0
    finally:
        await client.close()


async def _answered(ask: Callable[[], Awaitable[T]]) -> T:
    """A new cluster may not have elected its meta or stream leader yet, or not routed the request: retry,
    briefly each, for as long as a loaded machine may need."""
    deadline = time.monotonic() + 30
    while True:
        try:
            return await ask()
        except (nats.js.errors.Error, nats.errors.TimeoutError, nats.errors.NoRespondersError):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


async def _add_replicated_stream(client: NatsClient, name: str) -> Any:
    jetstream = client.jetstream(timeout=1)
    return await _answered(lambda: jetstream.add_stream(name=name, subjects=[f"gotong.{name}.>"], num_replicas=3))


async def test_a_three_node_cluster_replicates_a_stream_and_takes_a_node_back(workspace: Workspace) -> None:
    cluster = workspace.keep(start_nats_cluster(workspace.root))
    assert [node.server_name for node in cluster.nodes] == ["n1", "n2", "n3"]
    assert len(set(cluster.urls)) == 3
    client = await _connect_nats(*cluster.urls)
    try:
        created = await _add_replicated_stream(client, "pooling")
        assert created.config.num_replicas == 3
        jetstream = client.jetstream(timeout=2)
        once = {"Nats-Msg-Id": "pool-opened-1"}  # a retried publish is stored once
        await _answered(lambda: jetstream.publish("gotong.pooling.PoolOpened", b"{}", headers=dict(once)))
        info = await client.jetstream().stream_info("pooling")
        assert info.cluster is not None
        assert {info.cluster.leader, *(peer.name for peer in info.cluster.replicas or [])} == {"n1", "n2", "n3"}
    finally:
        await client.close()

    # a follower: restarting the stream's leader would add a leader election (~5 s) to the test
    follower: EmbeddedNats = next(node for node in cluster.nodes if node.server_name != info.cluster.leader)
    port = follower.port
    follower.stop()
    assert follower.pid is None
    follower.start()
    assert follower.port == port
    client = await _connect_nats(follower.url)
    try:
        assert (await client.jetstream().stream_info("pooling")).state.messages == 1
    finally:
        await client.close()
