"""The scaled-out cluster as the tests see it: started and stopped through scripts/cluster.

Each test talks from a loopback address of its own (127.x.y.z): nginx sees it as the client's
address and passes it on in X-Forwarded-For, so per-client rate limits never mix tests (or two
runs within the same minute).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import socket
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
from requests.adapters import HTTPAdapter
from urllib3.poolmanager import PoolManager

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "scripts" / "cluster"
# The virtual environment pytest runs from: the script runs the cluster from it too.
VENV = Path(sys.executable).parents[1]
START_TIMEOUT = 120.0
STOP_TIMEOUT = 60.0
REQUEST_TIMEOUT = 30.0
PASSWORD = "correct-horse-battery"


def required(reason: str) -> None:
    """Skip for want of a server or tool; under CI, where everything must be there, fail."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (required under CI)")
    pytest.skip(reason)


def free_ports(count: int) -> list[int]:
    """Distinct free ports of 127.0.0.1 (held together while chosen, so all different)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@dataclass(frozen=True)
class App:
    name: str
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def address(self) -> str:
        """As nginx names it in X-Upstream."""
        return f"127.0.0.1:{self.port}"


@dataclass(frozen=True)
class Cluster:
    url: str
    apps: tuple[App, ...]
    run_dir: Path
    database_url: str
    redis_url: str

    def pid(self, name: str) -> int:
        return int((self.run_dir / f"{name}.pid").read_text())

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.run_dir / f"{name}.log"
        text = path.read_text(errors="replace") if path.exists() else "(no log)"
        return f"--- {path}\n" + "\n".join(text.splitlines()[-lines:])

    def logs(self) -> str:
        return "\n".join(
            self.log_tail(name) for name in (*(app.name for app in self.apps), "worker", "nginx")
        )


def _script(
    command: str, run_dir: Path, env: Mapping[str, str], *args: str, timeout: float
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), command, "--run-dir", str(run_dir), *args],
        cwd=REPO_ROOT,
        env={**env, "VENV": str(VENV)},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def alive(pid: int) -> bool:
    """Running, and not a zombie (this machine's init does not reap orphans)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return True


def kill_group(pid: int) -> None:
    """SIGKILL a process and everything in its group (a gunicorn master and its workers)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def _recorded_pids(run_dir: Path) -> dict[str, int]:
    pids = {path.stem: int(path.read_text()) for path in run_dir.glob("*.pid")}
    state = run_dir / "cluster.json"
    if state.exists():
        for name, entry in json.loads(state.read_text()).get("processes", {}).items():
            pids.setdefault(name, int(entry["pid"]))
    return pids


@contextlib.contextmanager
def run_cluster(
    run_dir: Path, env: Mapping[str, str], port: int, app_ports: list[int]
) -> Iterator[Cluster]:
    """`scripts/cluster start`, then (whatever happens) `scripts/cluster stop`; anything the
    script records that is still running afterwards is killed and the test fails."""
    started_from = _recorded_pids(run_dir)
    try:
        started = _script(
            "start",
            run_dir,
            env,
            "--port",
            str(port),
            "--app-ports",
            ",".join(map(str, app_ports)),
            timeout=START_TIMEOUT,
        )
        apps = tuple(App(f"app-{n}", p) for n, p in enumerate(app_ports, start=1))
        cluster = Cluster(
            f"http://127.0.0.1:{port}", apps, run_dir, env["DATABASE_URL"], env["REDIS_URL"]
        )
        if started.returncode != 0:
            pytest.fail(
                f"scripts/cluster start failed ({started.returncode}):\n{started.stdout}\n"
                f"{started.stderr}\n{cluster.logs()}"
            )
        print(started.stdout)
        yield cluster
    finally:
        recorded = {**started_from, **_recorded_pids(run_dir)}
        stopped = _script("stop", run_dir, env, timeout=STOP_TIMEOUT)
        deadline = time.monotonic() + 5
        while any(alive(pid) for pid in recorded.values()) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = {name: pid for name, pid in recorded.items() if alive(pid)}
        for pid in left.values():
            kill_group(pid)
        if stopped.returncode != 0 or left:
            pytest.fail(
                f"scripts/cluster stop ({stopped.returncode}) left {left} running:\n"
                f"{stopped.stdout}\n{stopped.stderr}"
            )


# -- clients -----------------------------------------------------------------------------------


class _FromAddress(HTTPAdapter):
    """Connections from a chosen local address."""

    def __init__(self, source: str) -> None:
        self.source = source
        super().__init__()

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **kw: Any):
        self.poolmanager = PoolManager(
            num_pools=connections, maxsize=maxsize, block=block, source_address=(self.source, 0)
        )


def loopback_address() -> str:
    """A random address of 127.0.0.0/8 this machine can send from (127.0.0.1 if no other)."""
    address = f"127.{random.randint(1, 254)}.{random.randint(0, 255)}.{random.randint(1, 254)}"
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((address, 0))
        except OSError:
            return "127.0.0.1"
    return address


def client(source: str | None = None) -> requests.Session:
    """A client of its own, from a loopback address of its own, with no proxy settings."""
    session = requests.Session()
    session.trust_env = False
    session.mount("http://", _FromAddress(source or loopback_address()))
    return session


@dataclass
class User:
    id: int
    username: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def register(session: requests.Session, base_url: str) -> tuple[int, str]:
    username = f"c{uuid.uuid4().hex[:12]}"
    response = session.post(
        f"{base_url}/api/users",
        json={"username": username, "email": f"{username}@example.com", "password": PASSWORD},
        timeout=REQUEST_TIMEOUT,
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"]), username


def get_token(session: requests.Session, base_url: str, username: str) -> requests.Response:
    return session.post(
        f"{base_url}/api/tokens", auth=(username, PASSWORD), timeout=REQUEST_TIMEOUT
    )


def signed_up(session: requests.Session, base_url: str) -> User:
    """A new user registered, and given a token, through `base_url`."""
    user_id, username = register(session, base_url)
    token = get_token(session, base_url, username)
    assert token.status_code == 200, token.text
    return User(user_id, username, token.json()["token"])
