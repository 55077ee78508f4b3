"""`make bench`: seed a reproducible dataset, serve it as `make run` does (rate limits on, with
budgets too large to refuse), load each endpoint with wrk from a second process, and compare
every endpoint with the ceiling measured in the same run: a bare Flask app (`bench.bare`: one
route, no extension, no hook) on gunicorn with one sync worker per core. `GET /api/ping`, the
same answer through Microblog's whole pipeline, shows what the pipeline costs. It runs on
SQLite (what `make run` serves) and on PostgreSQL, one after the other.

    .venv/bin/python -m bench.run [--database both|sqlite|postgresql] [--users 10000 ...] [--quick]

Writes bench/results/<date>T<time>.json and bench/results/<date>T<time>.png, and prints a table.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import time
from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa

from bench import chart, wrk

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
RESULTS = ROOT / "bench" / "results"
ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
LARGE_SUBSET = ("ceiling", "ping", "user", "users_100", "feed", "feed_deep", "post")
# Rate limits stay on, as in production, with budgets no benchmark spends: their cost is
# measured, and nothing is refused.
UNREFUSED = "1000000 per minute"
LIMITS = {
    "RATELIMIT_ENABLED": "true",
    "RATELIMIT_API": UNREFUSED,
    "RATELIMIT_TOKENS": UNREFUSED,
    "RATELIMIT_SIGNUPS": UNREFUSED,
}


def main() -> None:
    options = _arguments()
    started = time.monotonic()
    report: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cores": os.cpu_count(), "connections": options.connections},
        "settings": vars(options),
        "runs": [],
    }
    kinds = ("sqlite", "postgresql") if options.database == "both" else (options.database,)
    with _bare_server() as ceiling:
        for kind in kinds:
            report["runs"].extend(_bench_database(kind, ceiling, options))
    report["seconds"] = round(time.monotonic() - started)
    RESULTS.mkdir(parents=True, exist_ok=True)
    # Date and time: two runs of a day (before and after a change) must not overwrite each other.
    stem = RESULTS / datetime.now(UTC).strftime("%Y-%m-%dT%H%M")
    stem.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    chart.draw(report, stem.with_suffix(".png"))
    print(_table(report))
    print(f"\nwrote {stem.with_suffix('.json')} and {stem.with_suffix('.png')}")


def _bench_database(kind: str, ceiling: str, options: argparse.Namespace) -> list[dict[str, Any]]:
    """Seed a fresh database of `kind`, serve it, measure; again at the large size."""
    database = _fresh_database(kind)
    env = {**os.environ, "DATABASE_URL": database, **LIMITS}
    _seed(env, options.users, options.posts, options.follows)
    runs = []
    with _server(env) as base:
        runs.append(_measure(base, ceiling, database, options, options.posts, None))
        if options.large_posts:
            _add_posts(env, options.large_posts - options.posts)
            runs.append(
                _measure(base, ceiling, database, options, options.large_posts, LARGE_SUBSET)
            )
    for run in runs:
        run["database"] = kind
    return runs


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="both", choices=["both", "sqlite", "postgresql"])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--posts", type=int, default=200_000)
    parser.add_argument("--follows", type=int, default=50, help="people each user follows")
    parser.add_argument(
        "--large-posts",
        type=int,
        default=2_000_000,
        help="repeat a subset at this many posts (0: skip)",
    )
    parser.add_argument(
        "--seconds", type=int, default=6, help="measured time per endpoint and round"
    )
    parser.add_argument("--rounds", type=int, default=3, help="figures are the rounds' median")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--quick", action="store_true", help="a small dataset and short runs, to try the harness"
    )
    options = parser.parse_args()
    if options.quick:
        options.users, options.posts, options.large_posts = 1000, 20_000, 200_000
        options.seconds, options.warmup, options.rounds = 3, 1, 1
    return options


def _fresh_database(kind: str) -> str:
    if kind == "sqlite":
        path = ROOT / "instance" / "bench.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql('DROP DATABASE IF EXISTS "microblog_bench" WITH (FORCE)')
        conn.exec_driver_sql('CREATE DATABASE "microblog_bench"')
    admin.dispose()
    return ADMIN_URL.rsplit("/", 1)[0] + "/microblog_bench"


def _microblog(env: dict[str, str], *args: str) -> None:
    subprocess.run([str(BIN / "microblog"), *args], env=env, check=True, cwd=ROOT)


def _seed(env: dict[str, str], users: int, posts: int, follows: int) -> None:
    started = time.monotonic()
    _microblog(env, "db", "upgrade")
    _microblog(env, "fake", "users", str(users), "--seed", "1")
    _microblog(env, "fake", "posts", str(posts), "--seed", "1")
    _microblog(env, "fake", "follows", str(follows), "--seed", "1")
    _analyze(env["DATABASE_URL"])
    print(f"seeded {users} users, {posts} posts in {time.monotonic() - started:.0f} s")


def _add_posts(env: dict[str, str], count: int) -> None:
    _microblog(env, "fake", "posts", str(count), "--seed", "2")
    _analyze(env["DATABASE_URL"])


def _analyze(url: str) -> None:
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE")
    engine.dispose()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def _server(env: dict[str, str]) -> Iterator[str]:
    """gunicorn with the production settings (gunicorn.conf.py), as `make run` starts it."""
    port = _free_port()
    command = [str(BIN / "gunicorn"), "--config", "gunicorn.conf.py"]
    env = {**env, "HOST": "127.0.0.1", "PORT": str(port), "TRUSTED_PROXIES": "0"}
    with _serving(command, env, f"http://127.0.0.1:{port}", "/api/ping", "bench-server") as base:
        yield base


@contextlib.contextmanager
def _bare_server() -> Iterator[str]:
    """The ceiling: `bench.bare` on gunicorn, sync workers, one per core, no access log."""
    port = _free_port()
    workers = str(os.cpu_count() or 2)
    command = [str(BIN / "gunicorn"), "--workers", workers, "--worker-class", "sync"]
    command += ["--bind", f"127.0.0.1:{port}", "bench.bare:app"]
    with _serving(command, dict(os.environ), f"http://127.0.0.1:{port}", "/", "bench-bare") as base:
        yield base


@contextlib.contextmanager
def _serving(
    command: list[str], env: dict[str, str], base: str, probe: str, log_name: str
) -> Iterator[str]:
    """Run `command` in a process group of its own until it answers `probe`, then yield."""
    (ROOT / "instance").mkdir(exist_ok=True)
    log = (ROOT / "instance" / f"{log_name}.log").open("w")
    process = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        for _ in range(300):
            with contextlib.suppress(requests.RequestException):
                if requests.get(base + probe, timeout=2).ok:
                    break
            time.sleep(0.2)
        else:
            raise RuntimeError(f"{command} did not answer {probe}; see instance/{log_name}.log")
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        log.close()


def _endpoints(base: str, ceiling: str, database: str) -> dict[str, dict[str, Any]]:
    """What to load, with the ids and credentials each request needs."""
    engine = sa.create_engine(database)
    with engine.connect() as conn:
        user_id, username = conn.execute(
            sa.text("SELECT id, username FROM users WHERE following_count > 0 ORDER BY id LIMIT 1")
        ).one()
        feed = sa.text(
            "SELECT id FROM posts WHERE user_id = :me OR user_id IN "
            "(SELECT followed_id FROM follows WHERE follower_id = :me) "
            "ORDER BY id DESC LIMIT 1 OFFSET :deep"
        )
        total = conn.execute(
            sa.text(
                "SELECT coalesce(sum(post_count), 0) FROM users WHERE id = :me OR id IN "
                "(SELECT followed_id FROM follows WHERE follower_id = :me)"
            ),
            {"me": user_id},
        ).scalar_one()
        deep_id = conn.execute(feed, {"me": user_id, "deep": int(total * 0.9)}).scalar_one()
        post_id = conn.execute(sa.text("SELECT max(id) / 2 FROM posts")).scalar_one()
    engine.dispose()
    token = requests.post(f"{base}/api/tokens", auth=(username, "password"), timeout=30).json()
    bearer = {"Authorization": f"Bearer {token['token']}"}
    json_bearer = {**bearer, "Content-Type": "application/json"}
    basic = requests.auth._basic_auth_str(username, "password")  # type: ignore[attr-defined]
    return {
        "ceiling": {"url": ceiling + "/"},
        "ping": {"path": "/api/ping"},
        "user": {"path": f"/api/users/{user_id}", "headers": bearer},
        "users_10": {"path": "/api/users?per_page=10", "headers": bearer},
        "users_100": {"path": "/api/users?per_page=100", "headers": bearer},
        "users_deep": {"path": "/api/users?page=900&per_page=10", "headers": bearer},
        "followers": {"path": f"/api/users/{user_id}/followers", "headers": bearer},
        "feed": {"path": "/api/feed", "headers": bearer},
        "feed_deep": {"path": f"/api/feed?max_id={deep_id}", "headers": bearer},
        "post": {"path": f"/api/posts/{post_id}", "headers": bearer},
        "create_post": {
            "path": "/api/posts",
            "method": "POST",
            "headers": json_bearer,
            "body": json.dumps({"body": "A post written by the benchmark."}),
        },
        "token": {"path": "/api/tokens", "method": "POST", "headers": {"Authorization": basic}},
        "home_html": {"path": "/", "headers": {"Cookie": _session_cookie(base, username)}},
    }


def _session_cookie(base: str, username: str) -> str:
    browser = requests.Session()
    form = browser.get(f"{base}/login", timeout=30).text
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    browser.post(
        f"{base}/login",
        timeout=30,
        data={"csrf_token": csrf, "username": username, "password": "password"},
    )
    return "; ".join(f"{name}={value}" for name, value in browser.cookies.items())


def _measure(
    base: str,
    ceiling: str,
    database: str,
    options: argparse.Namespace,
    posts: int,
    only: tuple[str, ...] | None,
) -> dict[str, Any]:
    endpoints = {
        name: spec
        for name, spec in _endpoints(base, ceiling, database).items()
        if only is None or name in only
    }
    rounds: dict[str, list[wrk.Result]] = {name: [] for name in endpoints}
    # Every endpoint once per round, the ceiling with them: a burst of noise on this shared
    # machine then spoils one round of each, not every round of one.
    for round_number in range(1, options.rounds + 1):
        for name, spec in endpoints.items():
            call = {
                "method": spec.get("method", "GET"),
                "body": spec.get("body", ""),
                "headers": spec.get("headers", {}),
                "connections": options.connections,
            }
            url = spec.get("url") or base + spec["path"]
            wrk.run(url, seconds=options.warmup, **call)
            result = wrk.run(url, seconds=options.seconds, **call)
            rounds[name].append(result)
            print(
                f"{_kind(database):<10} {posts:>9} posts  round {round_number}  {name:<12} "
                f"{result.requests_per_second:>8.0f} req/s  p50 {result.p50_ms:6.1f} ms  "
                f"p99 {result.p99_ms:6.1f} ms  errors {result.errors}",
                flush=True,
            )
    results = {name: _median_of(measured) for name, measured in rounds.items()}
    ceiling = results["ceiling"]["requests_per_second"]
    for figures in results.values():
        figures["ratio_to_ceiling"] = round(figures["requests_per_second"] / ceiling, 3)
    return {"posts": posts, "users": options.users, "results": results}


def _kind(database: str) -> str:
    return "sqlite" if database.startswith("sqlite") else "postgresql"


def _median_of(measured: list[wrk.Result]) -> dict[str, Any]:
    """The median of each figure over the rounds (errors: their sum), and every round."""
    return {
        "requests_per_second": statistics.median(r.requests_per_second for r in measured),
        "p50_ms": statistics.median(r.p50_ms for r in measured),
        "p99_ms": statistics.median(r.p99_ms for r in measured),
        "requests": sum(r.requests for r in measured),
        "errors": sum(r.errors for r in measured),
        "rounds": [asdict(r) for r in measured],
    }


def _table(report: dict[str, Any]) -> str:
    lines = [
        "| database | posts | endpoint | req/s | p50 ms | p99 ms | ratio to bare Flask |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    for run in report["runs"]:
        for name, r in run["results"].items():
            lines.append(
                f"| {run.get('database', 'postgresql')} | {run['posts']:,} | {name} | "
                f"{r['requests_per_second']:,.0f} | "
                f"{r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['ratio_to_ceiling']:.0%} |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
