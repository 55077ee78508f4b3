"""Which server should `make run` start? gunicorn's sync workers, its gthread workers, or
granian, compared in one sitting, each serving both the bare Flask app (`bench.bare`) and
Microblog.

Every candidate runs two workers (one per core of the machine this was written on). Each is
started twice: once serving `bench.bare:app` (no access log: the ceiling of that server) and once
serving `microblog:create_app()` the way it would serve production (gunicorn through
gunicorn.conf.py with its JSON access log; granian with its access log on and a Prometheus
multiprocess directory of its own), on a SQLite database seeded with `microblog fake`, rate
limits on with budgets no run spends (bench.run.LIMITS).

All servers stay up for the whole sitting and are loaded one at a time. Each round loads every
server's bare app and its Microblog endpoints (GET /api/ping, GET /api/users/<id>, GET
/api/feed, POST /api/posts), in a server order that rotates from round to round; the figures are
the medians over the rounds. A shared machine makes absolute numbers noisy, so the table also
gives two ratios computed within each round (then their median): to the same server's bare app
(what Microblog's pipeline costs on that server) and to gunicorn-sync's bare app (how the server
compares with today's).

    PYTHONPATH=. .venv/bin/python -m bench.servers [--rounds 3] [--seconds 5] [--only NAME ...]

granian is not a dependency of the project: install it where this Python can import it (for
instance `pip install --target /tmp/granian-site granian` and add that directory to
PYTHONPATH). Writes bench/results/servers-<date>T<time>.json and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa

from bench import wrk
from bench.run import LIMITS, _analyze, _free_port, _serving

ROOT = Path(__file__).resolve().parents[1]
# The Python running this script, and the console scripts beside it (gunicorn, microblog):
# a worktree has no .venv of its own.
BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "results"
DATABASE = ROOT / "instance" / "bench-servers.db"
BARE = "bench.bare:app"
MICROBLOG = "microblog:create_app()"
WORKERS = 2


@dataclass(frozen=True)
class Server:
    """How to start one candidate serving `app` ("module:attribute" or "module:factory()")."""

    name: str
    command: Callable[[str, int, bool], list[str]]

    def start(self, app: str, env: dict[str, str]) -> contextlib.AbstractContextManager[str]:
        port = _free_port()
        production = app == MICROBLOG
        env = {**env, "HOST": "127.0.0.1", "PORT": str(port), "TRUSTED_PROXIES": "0"}
        probe = "/api/ping" if production else "/"
        kind = "microblog" if production else "bare"
        log = f"bench-servers-{self.name}-{kind}"
        return _serving(self.command(app, port, production), env, env_base(port), probe, log)


def env_base(port: int) -> str:
    return f"http://127.0.0.1:{port}"


def _gunicorn(*extra: str) -> Callable[[str, int, bool], list[str]]:
    def command(app: str, port: int, production: bool) -> list[str]:
        # Production: gunicorn.conf.py (JSON logs, metrics directory, KDF slots, limits), its
        # worker count and class overridden from the command line.
        config = ["--config", "gunicorn.conf.py"] if production else []
        return [
            str(BIN / "gunicorn"),
            *config,
            "--workers",
            str(WORKERS),
            *extra,
            "--bind",
            f"127.0.0.1:{port}",
            app,
        ]

    return command


def _granian(*extra: str) -> Callable[[str, int, bool], list[str]]:
    def command(app: str, port: int, production: bool) -> list[str]:
        target = app.removesuffix("()")
        factory = ["--factory"] if app.endswith("()") else []
        log = ["--access-log"] if production else ["--no-access-log"]
        return [
            sys.executable,
            "-m",
            "granian",
            "--interface",
            "wsgi",
            "--workers",
            str(WORKERS),
            *extra,
            *factory,
            *log,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            target,
        ]

    return command


SERVERS = [
    Server("gunicorn-sync", _gunicorn("--worker-class", "sync")),
    Server("gunicorn-gthread4", _gunicorn("--worker-class", "gthread", "--threads", "4")),
    # granian's default for WSGI: backpressure = backlog / workers (512), and up to half as many
    # blocking threads (256) per worker: one Python thread per request in flight.
    Server("granian", _granian()),
    # Python threads bounded (4 or 2 a worker), connections not: granian's default backpressure
    # (512 a worker) lets idle keep-alive connections wait without taking a thread.
    Server("granian-t4", _granian("--blocking-threads", "4")),
    Server("granian-t2", _granian("--blocking-threads", "2")),
    # Bounded like gthread: 4 Python threads a worker. --backpressure caps a worker's open
    # connections (idle keep-alive ones included, see bench.slow_clients), not its requests in
    # flight: 2 x 8 is exactly wrk's 16 connections here, and too few for production.
    Server("granian-bt4", _granian("--blocking-threads", "4", "--backpressure", "8")),
    # One Python thread a worker: a sync worker's concurrency, with granian's I/O in front. But
    # 2 connections a worker: of wrk's 16 only 4 are served (rate x latency says ~3), the others
    # wait for a slot that keep-alive never frees, and their waits are in no percentile.
    Server("granian-bt1", _granian("--blocking-threads", "1", "--backpressure", "2")),
]


def main() -> None:
    options = _arguments()
    servers = [s for s in SERVERS if not options.only or s.name in options.only]
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{DATABASE}", **LIMITS}
    _seed(env, options.users, options.posts, options.follows)
    runs: dict[str, dict[str, list[wrk.Result]]] = {}
    ratios: dict[str, dict[str, list[dict[str, float]]]] = {}
    with contextlib.ExitStack() as stack, tempfile.TemporaryDirectory() as metrics_root:
        bases: dict[str, tuple[str, str]] = {}
        for server in servers:
            # granian has no gunicorn.conf.py to make it a metrics directory of its own.
            metrics = Path(metrics_root) / server.name
            metrics.mkdir()
            server_env = {**env, "PROMETHEUS_MULTIPROC_DIR": str(metrics)}
            bare = stack.enter_context(server.start(BARE, server_env))
            microblog = stack.enter_context(server.start(MICROBLOG, server_env))
            bases[server.name] = (bare, microblog)
        for round_number in range(options.rounds):
            # Rotate the order: whoever runs first or last in a round changes every round.
            shift = round_number % len(servers)
            order = servers[shift:] + servers[:shift]
            bare_rps: dict[str, float] = {}
            round_results: dict[str, dict[str, wrk.Result]] = {}
            for server in order:
                bare, microblog = bases[server.name]
                measured = _round(bare, microblog, env["DATABASE_URL"], options)
                round_results[server.name] = measured
                bare_rps[server.name] = measured["bare"].requests_per_second
                for endpoint, result in measured.items():
                    runs.setdefault(server.name, {}).setdefault(endpoint, []).append(result)
                    print(
                        f"round {round_number + 1}  {server.name:<18} {endpoint:<6} "
                        f"{result.requests_per_second:>8.0f} req/s  p99 {result.p99_ms:7.1f} ms"
                        f"  errors {result.errors}",
                        flush=True,
                    )
            reference = bare_rps.get("gunicorn-sync")
            for name, measured in round_results.items():
                for endpoint, result in measured.items():
                    ratio = {"own_bare": result.requests_per_second / bare_rps[name]}
                    if reference:
                        ratio["sync_bare"] = result.requests_per_second / reference
                    ratios.setdefault(name, {}).setdefault(endpoint, []).append(ratio)
    report = _report(runs, ratios, options)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / datetime.now(UTC).strftime("servers-%Y-%m-%dT%H%M.json")
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(_table(report))
    print(f"\nwrote {path}")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="figures are the rounds' median")
    parser.add_argument("--seconds", type=int, default=5, help="measured time per load")
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured load before each")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--follows", type=int, default=50, help="people each user follows")
    parser.add_argument("--only", nargs="*", choices=[s.name for s in SERVERS])
    return parser.parse_args()


def _seed(env: dict[str, str], users: int, posts: int, follows: int) -> None:
    """A fresh SQLite database, seeded as `make bench` seeds it (bench.run._seed)."""
    import subprocess

    DATABASE.parent.mkdir(exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{DATABASE}{suffix}").unlink(missing_ok=True)
    started = time.monotonic()
    for args in (
        ("db", "upgrade"),
        ("fake", "users", str(users), "--seed", "1"),
        ("fake", "posts", str(posts), "--seed", "1"),
        ("fake", "follows", str(follows), "--seed", "1"),
    ):
        subprocess.run([str(BIN / "microblog"), *args], env=env, check=True, cwd=ROOT)
    _analyze(env["DATABASE_URL"])
    print(f"seeded {users} users, {posts} posts in {time.monotonic() - started:.0f} s")


def _round(
    bare: str, microblog: str, database: str, options: argparse.Namespace
) -> dict[str, wrk.Result]:
    """The bare app, then each Microblog endpoint, on one server."""
    calls: dict[str, tuple[str, dict[str, Any]]] = {"bare": (bare + "/", {})}
    for name, (path, call) in _endpoints(microblog, database).items():
        calls[name] = (microblog + path, call)
    results = {}
    for name, (url, call) in calls.items():
        wrk.run(url, seconds=options.warmup, connections=options.connections, **call)
        results[name] = wrk.run(
            url, seconds=options.seconds, connections=options.connections, **call
        )
    return results


_tokens: dict[str, str] = {}


def _endpoints(base: str, database: str) -> dict[str, tuple[str, dict[str, Any]]]:
    """Path and wrk arguments of each Microblog endpoint (a token asked once per server)."""
    engine = sa.create_engine(database)
    with engine.connect() as conn:
        user_id, username = conn.execute(
            sa.text("SELECT id, username FROM users WHERE following_count > 0 ORDER BY id LIMIT 1")
        ).one()
    engine.dispose()
    if base not in _tokens:
        answer = requests.post(f"{base}/api/tokens", auth=(username, "password"), timeout=30)
        answer.raise_for_status()
        _tokens[base] = answer.json()["token"]
    bearer = {"Authorization": f"Bearer {_tokens[base]}"}
    return {
        "ping": ("/api/ping", {}),
        "user": (f"/api/users/{user_id}", {"headers": bearer}),
        "feed": ("/api/feed", {"headers": bearer}),
        "post": (
            "/api/posts",
            {
                "method": "POST",
                "headers": {**bearer, "Content-Type": "application/json"},
                "body": json.dumps({"body": "A post written by the benchmark."}),
            },
        ),
    }


def _report(
    runs: dict[str, dict[str, list[wrk.Result]]],
    ratios: dict[str, dict[str, list[dict[str, float]]]],
    options: argparse.Namespace,
) -> dict[str, Any]:
    results: dict[str, dict[str, Any]] = {}
    for name, endpoints in runs.items():
        for endpoint, measured in endpoints.items():
            own = [r["own_bare"] for r in ratios[name][endpoint]]
            sync = [r["sync_bare"] for r in ratios[name][endpoint] if "sync_bare" in r]
            results.setdefault(name, {})[endpoint] = {
                "requests_per_second": statistics.median(r.requests_per_second for r in measured),
                "p99_ms": statistics.median(r.p99_ms for r in measured),
                "p50_ms": statistics.median(r.p50_ms for r in measured),
                "ratio_to_own_bare": statistics.median(own),
                "ratio_to_sync_bare": statistics.median(sync) if sync else None,
                "errors": sum(r.errors for r in measured),
                "rounds": [asdict(r) for r in measured],
            }
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cores": os.cpu_count()},
        "settings": vars(options),
        "results": results,
    }


def _table(report: dict[str, Any]) -> str:
    lines = [
        "| server | endpoint | req/s | p99 ms | / own bare | / sync bare | errors |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for name, endpoints in report["results"].items():
        for endpoint, r in endpoints.items():
            sync = r["ratio_to_sync_bare"]
            lines.append(
                f"| {name} | {endpoint} | {r['requests_per_second']:,.0f} | {r['p99_ms']:.1f} | "
                f"{r['ratio_to_own_bare']:.0%} | {'-' if sync is None else f'{sync:.0%}'} | "
                f"{r['errors']} |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
