"""Plain helpers shared by the tests (fixtures live in conftest.py)."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest
from flask import Flask
from redis import Redis, RedisError

from microblog import create_app
from microblog.tasks.executors import ThreadExecutor, executor_of

# Cheap Argon2 parameters: the suite hashes hundreds of passwords.
FAST_HASH = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}


def make_app(database_url: str, **overrides: Any) -> Flask:
    return create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "PASSWORD_HASH": FAST_HASH,
            # Tests make many requests from one address; a test that wants limits turns them on.
            "RATELIMIT_ENABLED": False,
            **overrides,
        }
    )


@dataclass
class ApiUser:
    """A registered user and a live token, as a test sees them."""

    id: int
    username: str
    email: str
    password: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def basic_auth(username: str, password: str) -> dict[str, str]:
    encoded = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


def required_or_skip(reason: str) -> NoReturn:
    """A real service the test needs is missing: skip here, but fail under CI, where every
    service is present and a skipped test would hide a broken set-up."""
    if os.environ.get("CI"):
        pytest.fail(f"required under CI: {reason}")
    pytest.skip(reason)


def redis_or_skip(url: str) -> str:
    """`url` if a Redis answers there."""
    client = Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except RedisError as exc:
        required_or_skip(f"no Redis server at {url}: {exc}")
    finally:
        client.close()
    return url


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless=new",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_or_skip() -> None:
    """Debian's Chromium (`make browser` installs it)."""
    if not (CHROMIUM.exists() and os.access(CHROMIUM, os.X_OK)):
        required_or_skip(f"no Chromium at {CHROMIUM} (make browser, or apt-get install chromium)")


def wait_for_jobs(app: Flask) -> None:
    """Wait for the jobs the app's threads have been given so far (they take more)."""
    executor = executor_of(app)
    if isinstance(executor, ThreadExecutor):
        executor.wait()


def stop_jobs(app: Flask) -> None:
    """Wait for the app's job threads to finish (RQ jobs run elsewhere: nothing to wait for)."""
    executor = executor_of(app)
    if isinstance(executor, ThreadExecutor):
        executor.shutdown(wait=True)


# MAX_CONTENT_LENGTH, the largest body the app reads.
MIB = 1024 * 1024


def past_the_limit(start: bytes, end: bytes) -> bytes:
    """`start`, padded with spaces to exactly 1 MiB, then `end`: a body whose first MiB alone
    is a whole request (what the app got when it cut a chunked body at the limit)."""
    return start + b" " * (MIB - len(start)) + end


def post_past_the_limit() -> bytes:
    return past_the_limit(b'{"body": "the first MiB only"}', b'{"body": "the rest"}')
