"""Running the real server and talking HTTP to it, for the tests under tests/server."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.tasks.task_support import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
# The virtual environment pytest runs from: the one `make test` built, holding the commands.
VENV_BIN = Path(sys.executable).parent
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
REQUEST_TIMEOUT = 60.0


@dataclass(frozen=True)
class LiveServer:
    base_url: str
    port: int
    database_url: str
    log_path: Path

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def log_tail(self, lines: int = 60) -> str:
        return _tail(self.log_path, lines)


def _tail(path: Path, lines: int = 60) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the whole process group (master and workers), then SIGKILL if it lingers."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=STOP_TIMEOUT)


def _wait_until_ready(process: subprocess.Popen[bytes], server: LiveServer) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    last: object = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"gunicorn exited with {process.returncode} before serving; its log:\n"
                f"{server.log_tail()}"
            )
        try:
            response = requests.get(server.url("/api/users"), timeout=5)
        except (requests.ConnectionError, requests.Timeout) as exc:
            last = exc
        else:
            if response.status_code == 401:
                return
            last = f"{response.status_code} {response.text[:200]}"
        time.sleep(0.1)
    pytest.fail(
        f"the server did not answer GET /api/users with 401 within {READY_TIMEOUT:.0f} s "
        f"(last: {last}); its log:\n{server.log_tail()}"
    )


@contextlib.contextmanager
def run_live_server(
    database_url: str,
    workdir: Path,
    extra_env: Mapping[str, str] | None = None,
    *,
    workers: int = 2,
) -> Iterator[LiveServer]:
    """`make run` on `database_url`: `microblog db upgrade`, then gunicorn with the repo's
    gunicorn.conf.py, `workers` workers, on a free port of 127.0.0.1, until it answers.
    `extra_env` adds to the environment the server starts with (settings such as
    UNREAD_POLL_SECONDS)."""
    # Rate limits off, as in every test, unless `extra_env` turns them on: tests here sign many
    # users up from one address.
    env = {
        **os.environ,
        "RATELIMIT_ENABLED": "false",
        **(extra_env or {}),
        "DATABASE_URL": database_url,
        "WEB_CONCURRENCY": str(workers),
    }
    log_path = workdir / "server.log"
    with log_path.open("wb") as log:
        upgrade = subprocess.run(
            [str(VENV_BIN / "microblog"), "db", "upgrade"],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=120,
            check=False,
        )
    if upgrade.returncode != 0:
        pytest.fail(f"`microblog db upgrade` failed ({upgrade.returncode}):\n{_tail(log_path)}")

    port = free_port()
    server = LiveServer(f"http://127.0.0.1:{port}", port, database_url, log_path)
    with running_gunicorn(env, port, log_path) as process:
        _wait_until_ready(process, server)
        yield server


@contextlib.contextmanager
def running_gunicorn(
    server_env: Mapping[str, str], port: int, log_path: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """gunicorn with the repo's gunicorn.conf.py on 127.0.0.1:`port`, as `make run` and
    scripts/cluster start it, until the block ends: then SIGTERM to its process group (master
    and workers), SIGKILL if it lingers.

    `server_env` is its whole environment (DATABASE_URL, WEB_CONCURRENCY ...), less what would
    override gunicorn.conf.py (GUNICORN_CMD_ARGS) or claim another server's temporary metrics
    directory. Its output is appended to `log_path`. The master is yielded, leading a process
    group of its own, so a test may kill it (and its workers) itself. When it counts as
    serving is the caller's to wait for."""
    env = {**server_env, "HOST": "127.0.0.1", "PORT": str(port)}
    env.pop("GUNICORN_CMD_ARGS", None)
    env.pop("MICROBLOG_METRICS_DIR_IS_TEMPORARY", None)
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "--config", "gunicorn.conf.py"],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        _stop(process)


def unique_name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def call(server: LiveServer, method: str, path: str, **kwargs: Any) -> requests.Response:
    """One request on a connection of its own (safe from any thread)."""
    kwargs.setdefault("timeout", REQUEST_TIMEOUT)
    with requests.Session() as session:
        return session.request(method, server.url(path), **kwargs)
