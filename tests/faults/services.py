"""A PostgreSQL and a Redis of the fault tests' own, which the tests stop, kill and restart.

The shared servers on 5432 and 6379 are never touched: other tests use them. PostgreSQL is
initialised into a temporary directory owned by the `postgres` user (initdb refuses to run as
root) and listens on a free loopback port; Redis runs in the foreground, keeping nothing on
disk, on another.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from redis import Redis, RedisError

from tests.support import required_or_skip

POSTGRES_USER = "postgres"
SERVICE_TIMEOUT = 60.0


def postgres_bin() -> Path:
    """The newest Debian PostgreSQL server binaries (/usr/lib/postgresql/<version>/bin)."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda path: int(path.parts[-3]) if path.parts[-3].isdigit() else 0,
    )
    if not found:
        required_or_skip("no PostgreSQL server binaries in /usr/lib/postgresql/*/bin")
    return found[-1].parent


def redis_server() -> str:
    found = shutil.which("redis-server")
    if found is None:
        required_or_skip("redis-server is not installed (apt-get install redis-server)")
    return found


def _as_postgres(argv: list[str]) -> list[str]:
    """initdb and pg_ctl must not run as root: hand them to the `postgres` user."""
    if os.geteuid() != 0:
        return argv
    try:
        pwd.getpwnam(POSTGRES_USER)
    except KeyError:
        required_or_skip("running as root and there is no `postgres` user to run PostgreSQL")
    runuser = shutil.which("runuser")
    if runuser is None:
        required_or_skip("running as root and `runuser` is missing to run PostgreSQL as postgres")
    return [runuser, "-u", POSTGRES_USER, "--", *argv]


class PrivatePostgres:
    """A throwaway PostgreSQL cluster on 127.0.0.1:`port`, trusting local connections."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.bin = postgres_bin()
        # Under /tmp (world-traversable), not pytest's tmp_path (root's alone): the server runs
        # as `postgres` and must reach its directory.
        self.root = Path(tempfile.mkdtemp(prefix="microblog-faults-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        if os.geteuid() == 0:
            info = pwd.getpwnam(POSTGRES_USER)
            os.chown(self.root, info.pw_uid, info.pw_gid)

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *argv: str, timeout: float = SERVICE_TIMEOUT) -> None:
        done = subprocess.run(
            _as_postgres(list(argv)),
            cwd=self.root,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"{' '.join(argv)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}\n"
                f"{self.log_tail()}"
            )

    def log_tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def init(self) -> None:
        self._run(
            str(self.bin / "initdb"),
            "-D", str(self.data), "-U", POSTGRES_USER, "-A", "trust", "-E", "UTF8", "--no-sync",
        )  # fmt: skip
        # fsync off: these tests restart the server cleanly (a fast shutdown writes everything
        # out), they never crash the machine; it spares the shared disk.
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.root}'",
            "max_connections": "200",
            "fsync": "off",
            "full_page_writes": "off",
        }
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.writelines(f"{name} = {value}\n" for name, value in settings.items())

    def _pg_ctl(self, *args: str) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), *args)

    def start(self) -> None:
        self._pg_ctl("-w", "-t", "60", "start")

    def restart(self) -> None:
        """A fast restart: every connection is cut, in-flight transactions roll back."""
        self._pg_ctl("-w", "-t", "60", "-m", "fast", "restart")

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._pg_ctl("-w", "-t", "30", "-m", "immediate", "stop")

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


class PrivateRedis:
    """redis-server in the foreground on 127.0.0.1:`port`, keeping nothing on disk."""

    def __init__(self, port: int, log: Path) -> None:
        self.port = port
        self.log = log
        self.binary = redis_server()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        argv = [
            self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--daemonize", "no",
        ]  # fmt: skip
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        client = Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=1)
        deadline = time.monotonic() + SERVICE_TIMEOUT
        try:
            while True:
                try:
                    client.ping()
                    return
                except RedisError:
                    if self.process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"redis-server did not start: see {self.log}") from None
                    time.sleep(0.05)
        finally:
            client.close()

    def stop(self) -> None:
        """SIGKILL: Redis vanishes at once, as in a crash."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=SERVICE_TIMEOUT)
        self.process = None
