"""Can a few slow clients stop a server from answering everyone else?

A client that sends half a request and waits ties up whatever the server gives it while it
waits. A sync gunicorn worker is given to one connection from its accept to its answer, so two
such clients take both workers of a two-worker server and GET /api/ping from a third client
waits until gunicorn's worker timeout kills them. This checks each candidate of bench.servers,
serving Microblog as it would in production, in two shapes of slowness:

- headers: the request line and one header, never the blank line that ends the headers;
- body: POST /api/posts (authenticated, JSON) with complete headers saying Content-Length: 1000,
  then only 10 bytes of body.

Each time --slow such connections (two unless told) are held open while another client times
GET /api/ping (given up after --limit seconds). A third shape is not slow at all: 32
connections that each sent one whole request and then sit idle, neither reading nor closing,
as keep-alive pools of browsers and proxies leave them. granian's --backpressure caps a
worker's open connections, not its requests in flight, so idle connections can take every slot
(granian-bt4 has 2 x 8); gunicorn 27's sync worker lingers up to 2 s on each connection it
closes, waiting for the client to close too.

It also finds out how each server reads a request, with a probe WSGI app (`probe`, below):
- is the app called before the whole body has arrived? (POST /early with 10 of 1000 bytes: the
  probe answers without reading the body; an answer within a second says yes);
- does the server give up on a client whose headers never end, and after how long?
- does a read of an unfinished body ever end (POST /read: the probe reads wsgi.input), after
  how long, and how?

    PYTHONPATH=. .venv/bin/python -m bench.slow_clients [--only NAME ...] [--slow 2] [--limit 45]

Prints one table per question. granian must be importable (see bench.servers).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import socket
import subprocess
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

from bench.run import LIMITS
from bench.servers import BIN, MICROBLOG, ROOT, SERVERS, Server

DATABASE = ROOT / "instance" / "bench-slow-clients.db"
PROBE = "bench.slow_clients:probe"
IDLE = 32
USERNAME_QUERY = "SELECT username FROM users ORDER BY id LIMIT 1"


def probe(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """A WSGI app saying what it saw: /read reads the whole body first, anything else does not."""
    started = time.monotonic()
    if environ.get("PATH_INFO") == "/read":
        try:
            body = environ["wsgi.input"].read()
            outcome = f"read {len(body)} bytes"
        except Exception as error:  # what the server raises is the finding
            outcome = f"{type(error).__name__}: {error}"
    else:
        outcome = "answered without reading the body"
    payload = json.dumps(
        {"outcome": outcome, "seconds_in_app": round(time.monotonic() - started, 1)}
    ).encode()
    start_response(
        "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))]
    )
    return [payload]


def main() -> None:
    options = _arguments()
    servers = [s for s in SERVERS if not options.only or s.name in options.only]
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{DATABASE}", **LIMITS}
    _seed(env)
    with ThreadPoolExecutor(max_workers=len(servers) * 2) as pool:
        # The servers are independent processes and the clients mostly wait: checked at once.
        pings = {s.name: pool.submit(_pings, s, env, options.limit, options.slow) for s in servers}
        reads = {s.name: pool.submit(_reads, s, env, options.hold) for s in servers}
        ping_rows = {name: future.result() for name, future in pings.items()}
        read_rows = {name: future.result() for name, future in reads.items()}
    limit = options.limit
    slow = options.slow
    print(f"\nGET /api/ping while {slow} slow clients hold connections (given up after {limit} s)")
    print(
        f"| server | baseline | {slow} x headers unfinished | {slow} x body 10 of 1000 bytes | "
        f"{IDLE} idle |"
    )
    print("|---|---|---|---|---|")
    for name, row in ping_rows.items():
        cells = " | ".join(row[shape] for shape in ("baseline", "headers", "body", "idle"))
        print(f"| {name} | {cells} |")
    print(f"\nHow each server reads a request (probe app; waited up to {options.hold} s)")
    print(
        "| server | app called before the body is complete? | unfinished headers | "
        "unfinished body read by the app |"
    )
    print("|---|---|---|---|")
    for name, row in read_rows.items():
        print(f"| {name} | {row['early']} | {row['headers']} | {row['body']} |")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", choices=[s.name for s in SERVERS])
    parser.add_argument(
        "--slow", type=int, default=2, help="slow clients (2: one per worker of bench.servers)"
    )
    parser.add_argument("--limit", type=float, default=45.0, help="seconds to wait for a ping")
    parser.add_argument(
        "--hold", type=float, default=70.0, help="seconds to wait for a server to give up"
    )
    return parser.parse_args()


def _seed(env: dict[str, str]) -> None:
    DATABASE.parent.mkdir(exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{DATABASE}{suffix}").unlink(missing_ok=True)
    for args in (("db", "upgrade"), ("fake", "users", "3", "--seed", "1")):
        subprocess.run(
            [str(BIN / "microblog"), *args], env=env, check=True, cwd=ROOT, capture_output=True
        )


def _address(base: str) -> tuple[str, int]:
    host, port = base.removeprefix("http://").split(":")
    return host, int(port)


@contextlib.contextmanager
def _held(base: str, data: bytes, count: int = 2) -> Iterator[list[socket.socket]]:
    """`count` connections that have sent `data` and then nothing more."""
    connections = []
    try:
        for _ in range(count):
            connection = socket.create_connection(_address(base), timeout=5)
            connection.sendall(data)
            connections.append(connection)
        yield connections
    finally:
        for connection in connections:
            connection.close()


def _timed_ping(base: str, limit: float) -> str:
    started = time.monotonic()
    try:
        answer = requests.get(base + "/api/ping", timeout=limit)
        return f"{answer.status_code} in {time.monotonic() - started:.2f} s"
    except requests.RequestException as error:
        return f"no answer in {time.monotonic() - started:.0f} s ({type(error).__name__})"


def _wait_healthy(base: str, limit: float) -> None:
    """After slow clients leave, a server may be restarting workers: wait until it answers."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        with contextlib.suppress(requests.RequestException):
            if requests.get(base + "/api/ping", timeout=2).ok:
                return
        time.sleep(0.2)


def _pings(server: Server, env: dict[str, str], limit: float, slow: int) -> dict[str, str]:
    with server.start(MICROBLOG, {**env, **_metrics_dir(server)}) as base:
        username = _first_username()
        token = requests.post(f"{base}/api/tokens", auth=(username, "password"), timeout=30)
        token.raise_for_status()
        host = _address(base)[0]
        headers_unfinished = f"GET /api/ping HTTP/1.1\r\nHost: {host}\r\n".encode()
        body_unfinished = (
            f"POST /api/posts HTTP/1.1\r\nHost: {host}\r\n"
            f"Authorization: Bearer {token.json()['token']}\r\n"
            "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
            '{"body": "'
        ).encode()
        idle = f"GET /api/ping HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
        row = {"baseline": _timed_ping(base, limit)}
        shapes = (
            ("headers", headers_unfinished, 2),
            ("body", body_unfinished, 2),
            ("idle", idle, 16),
        )
        for shape, data, count in shapes:
            with _held(base, data, count):
                # Let the server take both connections in before the third one comes.
                time.sleep(0.5)
                row[shape] = _timed_ping(base, limit)
            _wait_healthy(base, limit)
        return row


def _metrics_dir(server: Server) -> dict[str, str]:
    path = ROOT / "instance" / f"slow-clients-metrics-{server.name}"
    path.mkdir(parents=True, exist_ok=True)
    return {"PROMETHEUS_MULTIPROC_DIR": str(path)}


def _first_username() -> str:
    import sqlalchemy as sa

    engine = sa.create_engine(f"sqlite:///{DATABASE}")
    with engine.connect() as conn:
        username: str = conn.execute(sa.text(USERNAME_QUERY)).scalar_one()
    engine.dispose()
    return username


def _reads(server: Server, env: dict[str, str], hold: float) -> dict[str, str]:
    with server.start(PROBE, env) as base:
        host = _address(base)[0]
        short_body = "Content-Type: text/plain\r\nContent-Length: 1000\r\n\r\n" + "x" * 10
        early = f"POST /early HTTP/1.1\r\nHost: {host}\r\n{short_body}".encode()
        read = f"POST /read HTTP/1.1\r\nHost: {host}\r\n{short_body}".encode()
        headers = f"GET /early HTTP/1.1\r\nHost: {host}\r\n".encode()
        with ThreadPoolExecutor(max_workers=3) as pool:
            answers = {
                "early": pool.submit(_until_answer, base, early, 3.0),
                "headers": pool.submit(_until_answer, base, headers, hold),
                "body": pool.submit(_until_answer, base, read, hold),
            }
            found = {name: future.result() for name, future in answers.items()}
        found["early"] = "yes" if "without reading" in found["early"] else f"no ({found['early']})"
        return found


def _until_answer(base: str, data: bytes, hold: float) -> str:
    """Send `data`, then wait for whatever comes back: an answer, a close, or nothing."""
    started = time.monotonic()
    with socket.create_connection(_address(base), timeout=hold) as connection:
        connection.sendall(data)
        received = b""
        try:
            while chunk := connection.recv(65536):
                received += chunk
                if b"\r\n\r\n" in received and _complete(received):
                    break
        except TimeoutError:
            return f"still waiting after {hold:.0f} s"
        except ConnectionResetError:
            return f"reset after {time.monotonic() - started:.1f} s"
    seconds = time.monotonic() - started
    if not received:
        return f"closed without an answer after {seconds:.1f} s"
    head, _, body = received.partition(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0].decode(errors="replace").removeprefix("HTTP/1.1 ")
    # One line for a table cell: an HTML error page's text without its markup.
    text = " ".join(re.sub(r"<[^>]*>", " ", body.decode(errors="replace")).split())[:80]
    return f"{status} after {seconds:.1f} s: {text}"


def _complete(received: bytes) -> bool:
    head, _, body = received.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return False


if __name__ == "__main__":
    main()
