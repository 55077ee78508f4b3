"""Two measurements of the background jobs (security review, issue 10, findings 4 and 11).

    PYTHONPATH=. .venv/bin/python -m bench.jobs mail-flood [--mails 200] [--delay 0.1] [--redis]
    PYTHONPATH=. .venv/bin/python -m bench.jobs task-list [--tasks 100] [--posts 2000] \
        [--database URL]

`mail-flood`: a real (slow) SMTP server, `--mails` password-reset requests for a known
address, then another user's export: how long the export takes to complete, from its start.
With `--redis`, jobs go through RQ (REDIS_URL, database 14) to one `microblog worker`.

`task-list`: a user with `--tasks` finished exports of `--posts` posts each (results stored):
the median time of `GET /api/tasks` (the first page), in process.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from flask import Flask
from flask_migrate import upgrade

from microblog import create_app
from microblog.extensions import db

REDIS_URL = "redis://127.0.0.1:6379/14"
MICROBLOG = str(Path(sys.executable).parent / "microblog")


def _app(database: str, **overrides: Any) -> Flask:
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database,
            "PASSWORD_HASH": {"time_cost": 1, "memory_cost": 8, "parallelism": 1},
            "RATELIMIT_ENABLED": False,
            "MAIL_SUPPRESS_SEND": False,
            **overrides,
        }
    )
    with app.app_context():
        upgrade()
    return app


def _user(client: Any, name: str) -> dict[str, str]:
    answer = client.post(
        "/api/users",
        json={"username": name, "email": f"{name}@example.com", "password": "correct-horse"},
    )
    assert answer.status_code == 201, answer.json
    token = client.post("/api/tokens", auth=(name, "correct-horse")).json["token"]
    return {"Authorization": f"Bearer {token}"}


def _wait_for_worker(process: subprocess.Popen[bytes]) -> None:
    """Until the worker has registered with RQ (its start is not the export's time)."""
    from redis import Redis
    from rq import Worker

    connection = Redis.from_url(REDIS_URL)
    while not any(w.pid == process.pid for w in Worker.all(connection=connection)):
        if process.poll() is not None:
            raise SystemExit(f"the worker exited with {process.returncode}")
        time.sleep(0.1)


def _export(client: Any, headers: dict[str, str]) -> float:
    """Start an export and poll it until complete: seconds taken."""
    started = time.perf_counter()
    task = client.post("/api/tasks", json={"name": "export_posts"}, headers=headers).json
    while not client.get(f"/api/tasks/{task['id']}", headers=headers).json["complete"]:
        time.sleep(0.01)
    return time.perf_counter() - started


def mail_flood(mails: int, delay: float, redis: bool) -> None:
    from aiosmtpd.controller import Controller

    from tests.support import stop_jobs
    from tests.tasks.task_support import free_port, insert_posts
    from tests.web.web_support import Browser

    received: list[float] = []

    class Slow:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            await asyncio.sleep(delay)
            received.append(time.perf_counter())
            return "250 accepted"

    controller = Controller(Slow(), hostname="127.0.0.1", port=free_port())
    controller.start()
    workdir = Path(tempfile.mkdtemp())
    database = f"sqlite:///{workdir / 'bench.db'}"
    mail = {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": controller.port}
    extra: dict[str, Any] = {"REDIS_URL": REDIS_URL} if redis else {}
    app = _app(database, **mail, **extra)
    worker = None
    if redis:
        from redis import Redis

        Redis.from_url(REDIS_URL).flushdb()
        env = {**os.environ, "DATABASE_URL": database, "REDIS_URL": REDIS_URL}
        env.update({key: str(value) for key, value in mail.items()})
        worker = subprocess.Popen([MICROBLOG, "worker"], env=env, cwd=workdir)
        _wait_for_worker(worker)
    try:
        client = app.test_client()
        _user(client, "victim")
        alice = _user(client, "alice")
        with app.app_context():
            alice_id = db.session.execute(db.text("SELECT id FROM users WHERE username='alice'"))
            insert_posts(app, alice_id.scalar_one(), 2000)
        quiet = _export(client, alice)
        person = Browser(client)
        token = person.csrf_token("/reset_password_request")
        for _ in range(mails):
            person.post(
                "/reset_password_request",
                {"email": "victim@example.com", "csrf_token": token},
                token_from=None,
            )
        flooded = _export(client, alice)
        print(
            f"export alone: {quiet:.2f} s; after {mails} reset requests: {flooded:.2f} s "
            f"({len(received)} mails delivered by then)"
        )
    finally:
        if worker:
            worker.terminate()
            worker.wait()
        stop_jobs(app)
        controller.stop()


def task_list(tasks: int, posts: int, database: str | None) -> None:
    from tests.tasks.task_support import insert_posts

    workdir = Path(tempfile.mkdtemp())
    app = _app(database or f"sqlite:///{workdir / 'bench.db'}")
    client = app.test_client()
    headers = _user(client, "alice")
    with app.app_context():
        alice = db.session.execute(db.text("SELECT id FROM users WHERE username='alice'"))
        insert_posts(app, alice.scalar_one(), posts)
    _export(client, headers)
    listed = client.get("/api/tasks", headers=headers).json
    assert listed is not None
    original = listed["items"][0]["id"]
    with app.app_context():
        # Copies of the finished export: the history of a busy account.
        copies = [{"id": f"{n:04d}-", "original": original} for n in range(tasks - 1)]
        db.session.execute(
            db.text(
                "INSERT INTO tasks (id, user_id, name, progress, complete, created_at,"
                " finished_at) SELECT :id || substr(id, 6), user_id, name, progress, complete,"
                " created_at, finished_at FROM tasks WHERE id = :original"
            ),
            copies,
        )
        if "result" in _columns("tasks"):  # before 0006_task_expiry
            db.session.execute(
                db.text(
                    "UPDATE tasks SET result = (SELECT result FROM tasks WHERE id = :original)"
                ),
                {"original": original},
            )
            size_sql = "SELECT sum(length(result)) FROM tasks"
        else:
            db.session.execute(
                db.text(
                    "INSERT INTO task_results (task_id, body)"
                    " SELECT :id || substr(task_id, 6), body"
                    " FROM task_results WHERE task_id = :original"
                ),
                copies,
            )
            size_sql = "SELECT sum(length(body)) FROM task_results"
        db.session.commit()
        size = db.session.execute(db.text(size_sql)).scalar() or 0
    times = []
    for _ in range(30):
        started = time.perf_counter()
        answer = client.get("/api/tasks", headers=headers)
        times.append(time.perf_counter() - started)
        assert answer.status_code == 200
    print(
        f"GET /api/tasks, {tasks} tasks with {size / 1e6:.0f} MB of results: "
        f"median {statistics.median(times) * 1000:.1f} ms"
    )


def _columns(table: str) -> set[str]:
    return {column["name"] for column in db.inspect(db.engine).get_columns(table)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    flood = commands.add_parser("mail-flood")
    flood.add_argument("--mails", type=int, default=200)
    flood.add_argument("--delay", type=float, default=0.1)
    flood.add_argument("--redis", action="store_true")
    listing = commands.add_parser("task-list")
    listing.add_argument("--tasks", type=int, default=100)
    listing.add_argument("--posts", type=int, default=2000)
    listing.add_argument("--database", help="an empty database's URL (default: a new SQLite)")
    args = parser.parse_args()
    if args.command == "mail-flood":
        mail_flood(args.mails, args.delay, args.redis)
    else:
        task_list(args.tasks, args.posts, args.database)


if __name__ == "__main__":
    main()
