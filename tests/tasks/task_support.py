"""Helpers for the task tests: bulk posts, polling a task, and a real SMTP server's inbox."""

from __future__ import annotations

import contextlib
import email
import email.policy
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient

from microblog.accounts.models import User
from microblog.db import utcnow, write_intent
from microblog.extensions import db
from microblog.posts.models import Post
from microblog.tasks.models import Task, TaskResult

FIRST_POST_TIME = datetime(2024, 1, 1, tzinfo=UTC)
MICROBLOG = str(Path(sys.executable).parent / "microblog")


def insert_posts(app: Flask, user_id: int, count: int) -> None:
    """`count` posts by the user, one second apart, written in one statement; counter moved."""
    rows = [
        {
            "user_id": user_id,
            "body": f"post number {number}",
            "timestamp": FIRST_POST_TIME + timedelta(seconds=number),
            "language": "en",
        }
        for number in range(count)
    ]
    with app.app_context(), write_intent():
        db.session.execute(sa.insert(Post), rows)
        db.session.execute(
            sa.update(User).where(User.id == user_id).values(post_count=User.post_count + count)
        )
        db.session.commit()


def start_export(client: FlaskClient, headers: dict[str, str]) -> dict[str, Any]:
    response = client.post("/api/tasks", json={"name": "export_posts"}, headers=headers)
    assert response.status_code == 202, response.get_data(as_text=True)
    task: dict[str, Any] = response.json
    return task


def wait_for_task(
    client: FlaskClient, headers: dict[str, str], task_id: str, timeout: float = 120.0
) -> tuple[dict[str, Any], list[int]]:
    """Poll the task as a client would until complete: its last state, and every progress seen."""
    seen: list[int] = []
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(f"/api/tasks/{task_id}", headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        task: dict[str, Any] = response.json
        seen.append(task["progress"])
        if task["complete"]:
            return task, seen
        if time.monotonic() > deadline:
            pytest.fail(f"task {task_id} not complete after {timeout:.0f} s: {task}")
        time.sleep(0.001)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def smtp_settings(port: int, host: str = "127.0.0.1") -> dict[str, Any]:
    """An app's settings for sending its mail to the SMTP server at `host`:`port`."""
    # Flask-Mail sends nothing under TESTING otherwise.
    return {"MAIL_SERVER": host, "MAIL_PORT": port, "MAIL_SUPPRESS_SEND": False}


@contextlib.contextmanager
def running_smtp(handler: Any) -> Iterator[int]:
    """A real SMTP server (aiosmtpd) handing what it receives to `handler`, on a free port of
    127.0.0.1; yields the port."""
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller.port
    finally:
        controller.stop()


@dataclass
class Inbox:
    """An aiosmtpd handler keeping every message it receives."""

    messages: list[EmailMessage] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float = 30.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count:
            if time.monotonic() > deadline:
                pytest.fail(f"{len(self.messages)} messages received, expected {count}")
            time.sleep(0.01)
        return self.messages


def attachments_of(message: EmailMessage) -> dict[str, tuple[str, bytes]]:
    """{filename: (content type, bytes)}."""
    found: dict[str, tuple[str, bytes]] = {}
    for part in message.iter_attachments():
        assert isinstance(part, EmailMessage)
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        found[part.get_filename() or ""] = (part.get_content_type(), payload)
    return found


def assert_full_export(document: dict[str, Any], user_id: int, username: str, count: int) -> None:
    """All `count` posts by the user, oldest first, in the export's shape."""
    assert set(document) == {"user", "exported_at", "posts"}
    assert document["user"] == {"id": user_id, "username": username}
    assert datetime.fromisoformat(document["exported_at"]).tzinfo is not None
    posts = document["posts"]
    assert len(posts) == count
    assert set(posts[0]) == {"id", "body", "timestamp", "language"}
    ids = [post["id"] for post in posts]
    assert ids == sorted(ids) and len(set(ids)) == count
    times = [datetime.fromisoformat(post["timestamp"]) for post in posts]
    assert times == sorted(times)
    assert times[0] == FIRST_POST_TIME
    assert posts[0]["body"] == "post number 0"
    assert posts[-1]["body"] == f"post number {count - 1}"


def finished_exports(app: Flask, user_id: int, *minutes_ago: float) -> None:
    """Exports the user started `minutes_ago`, each finished (with a result) as it started:
    the history the hourly allowance counts."""
    with app.app_context(), write_intent():
        for minutes in minutes_ago:
            started = utcnow() - timedelta(minutes=minutes)
            db.session.add(
                Task(
                    user_id=user_id,
                    name="export_posts",
                    complete=True,
                    progress=100,
                    created_at=started,
                    finished_at=started,
                )
            )
        db.session.commit()


def stored_export(app: Flask, user_id: int, finished_ago: timedelta, result: str) -> str:
    """A finished export of the user's whose `result` is still stored, finished
    `finished_ago`: its id."""
    with app.app_context(), write_intent():
        finished = utcnow() - finished_ago
        task = Task(
            user_id=user_id,
            name="export_posts",
            complete=True,
            progress=100,
            created_at=finished,
            finished_at=finished,
        )
        db.session.add(task)
        db.session.flush()
        db.session.add(TaskResult(task_id=task.id, body=result))
        db.session.commit()
        return task.id


def stored_result(app: Flask, task_id: str) -> str | None:
    """What the database keeps of a task's result."""
    with app.app_context():
        return db.session.scalar(sa.select(TaskResult.body).where(TaskResult.task_id == task_id))


def run_burst_worker(
    env: dict[str, str], cwd: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    """`microblog worker --burst` (with `args`): it runs what is queued, then exits."""
    return subprocess.run(
        [MICROBLOG, "worker", "--burst", *args],
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def worker_env(database_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    """The worker's environment: the test's database and Redis; mail only if asked for."""
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url}
    env.pop("MAIL_SERVER", None)
    env.update(extra)
    return env
