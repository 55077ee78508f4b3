"""Fixtures for the task tests: a real Redis queue, a real SMTP server, apps with settings."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from redis import Redis, RedisError
from rq import Queue

from microblog.extensions import db
from tests.support import make_app
from tests.tasks.task_support import Inbox, free_port, stop_jobs

# A database number of its own, so nothing here touches anyone else's keys.
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture(autouse=True)
def _no_servers_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The default app runs jobs in threads and writes mail to files, whatever the shell says."""
    for name in ("REDIS_URL", "MAIL_SERVER"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def app(app: Flask, tmp_path: Path) -> Iterator[Flask]:
    """The suite's app, with an instance folder of its own; its job threads end with the test."""
    app.instance_path = str(tmp_path / "instance")
    yield app
    stop_jobs(app)


@pytest.fixture
def make_task_app(app: Flask, database_url: str, tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """Another app on the test's (emptied) database, with settings of its own."""
    made: list[Flask] = []

    def make(**overrides: Any) -> Flask:
        other = make_app(database_url, **overrides)
        other.instance_path = str(tmp_path / f"instance-{len(made) + 1}")
        made.append(other)
        return other

    yield make
    for other in made:
        stop_jobs(other)
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(scope="session")
def redis_url() -> str:
    client = Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except RedisError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"Redis is required under CI and is unreachable at {TEST_REDIS_URL}: {exc}")
        pytest.skip(f"no Redis server at {TEST_REDIS_URL}: {exc}")
    finally:
        client.close()
    return TEST_REDIS_URL


@pytest.fixture
def queue_name(redis_url: str) -> Iterator[str]:
    """A queue no other test (or test run) uses; its keys are deleted afterwards."""
    name = f"microblog-test-{uuid.uuid4().hex[:12]}"
    yield name
    client = Redis.from_url(redis_url)
    try:
        Queue(name, connection=client).delete(delete_jobs=True)
        keys = list(client.scan_iter(match=f"*{name}*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture
def smtp_server() -> Iterator[tuple[str, int, Inbox]]:
    """A real SMTP server (aiosmtpd) on a free port of 127.0.0.1: (host, port, inbox)."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield "127.0.0.1", port, inbox
    finally:
        controller.stop()
