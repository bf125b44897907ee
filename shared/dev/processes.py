"""Server processes on this machine: free ports, process checks, and a record of which Python process
started which embedded server, so that a server left running by a killed run is stopped on the next start."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

_log = logging.getLogger(__name__)

ProcessState = Literal["gone", "zombie", "running"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on at this moment."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def distinct_free_ports(count: int) -> list[int]:
    """`count` different free ports (the kernel may hand out the same one twice in a row)."""
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


def process_state(pid: int) -> ProcessState:
    """Whether `pid` runs; a killed process stays a zombie until its parent (often init) reaps it."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return "gone"
    except PermissionError:
        pass  # it exists and belongs to another user
    if not Path("/proc/self/stat").exists():
        return "running"
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return "gone"
    return "zombie" if stat.rpartition(")")[2].split()[0] == "Z" else "running"


def command_line(pid: int) -> list[str]:
    """The arguments `pid` was started with; empty when the process is gone."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        if Path("/proc/self").exists():
            return []
        shown = subprocess.run(["ps", "-o", "command=", "-p", str(pid)], capture_output=True, text=True)
        return shown.stdout.split()
    except OSError:
        return []
    return [arg.decode(errors="replace") for arg in raw.split(b"\0") if arg]


def runs_with(pid: int, argument: str) -> bool:
    """Whether `pid` is alive and was started with `argument` (a data directory), so it is one of ours."""
    return process_state(pid) == "running" and argument in command_line(pid)


def wait_for(condition: Callable[[], bool], *, timeout: float, what: str) -> None:
    """Poll `condition` every 20 ms until it holds; TimeoutError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {timeout:g} s")
        time.sleep(0.02)


def _records() -> Path:
    return Path(tempfile.gettempdir()) / f"gotong-embedded-{os.geteuid()}"


def _record_for(marker: str) -> Path:
    return _records() / f"{hashlib.sha256(marker.encode()).hexdigest()[:20]}.json"


def remember_server(marker: str, pid: int, stop_signal: signal.Signals) -> None:
    """Note that this process started server `pid`, whose command line holds `marker`."""
    _records().mkdir(mode=0o700, exist_ok=True)
    record = {"owner": os.getpid(), "pid": pid, "marker": marker, "signal": int(stop_signal)}
    _record_for(marker).write_text(json.dumps(record))


def forget_server(marker: str, pid: int) -> None:
    """Drop the note on server `pid`, unless a newer server on the same data directory replaced it."""
    record = _record_for(marker)
    try:
        if json.loads(record.read_text())["pid"] == pid:
            record.unlink(missing_ok=True)
    except (OSError, ValueError, KeyError, TypeError):
        return


class ServerInUse(RuntimeError):
    """The server on a data directory belongs to another process that still runs."""


def refuse_if_owned(marker: str, what: str) -> None:
    """Raise ServerInUse if a live process other than this one started the server running on `marker`:
    a leftover is stopped only when its starting process has died."""
    try:
        record = json.loads(_record_for(marker).read_text())
        owner, pid = int(record["owner"]), int(record["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return
    if owner != os.getpid() and process_state(owner) == "running" and runs_with(pid, marker):
        raise ServerInUse(f"{what} on {marker} (pid {pid}) belongs to process {owner}, which still runs; stop it first")


def stop_orphaned_servers() -> None:
    """Signal every recorded server whose starting process has died (SIGKILL leaves servers running)."""
    folder = _records()
    if not folder.is_dir():
        return
    for path in folder.glob("*.json"):
        try:
            record = json.loads(path.read_text())
            owner, pid, marker = int(record["owner"]), int(record["pid"]), str(record["marker"])
            stop_signal = signal.Signals(int(record["signal"]))
        except (OSError, ValueError, KeyError, TypeError):
            path.unlink(missing_ok=True)
            continue
        if process_state(owner) == "running":
            continue
        if runs_with(pid, marker):
            _log.warning("stopping server %d (%s) left running by killed process %d", pid, marker, owner)
            try:
                os.kill(pid, stop_signal)
            except OSError as error:
                _log.warning("could not stop server %d: %s", pid, error)
        path.unlink(missing_ok=True)
