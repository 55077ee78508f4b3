"""Helpers for the tests of rate limits, health checks, metrics and logs: a real Redis of the
tests' own (database 14, keys under a prefix per test), and servers that do not answer."""

from __future__ import annotations

import contextlib
import os
import socket
import uuid
from collections.abc import Iterator

from redis import Redis

from tests import support

# A database number of its own (the task tests use 15).
TEST_REDIS_URL = os.environ.get("TEST_RATELIMIT_REDIS_URL", "redis://127.0.0.1:6379/14")


def redis_or_skip() -> str:
    return support.redis_or_skip(TEST_REDIS_URL)


def unique_prefix() -> str:
    return f"microblog-test-{uuid.uuid4().hex[:12]}"


def delete_rate_limit_keys(url: str, prefix: str) -> int:
    """Delete the keys the limiter made under `prefix` (Flask-Limiter's key prefix)."""
    with Redis.from_url(url) as client:
        keys = list(client.scan_iter(match=f"*LIMITER/{prefix}/*", count=1000))
        if keys:
            client.delete(*keys)
    return len(keys)


def closed_port() -> int:
    """A port of 127.0.0.1 where nothing listens (connections are refused at once)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def silent_server() -> Iterator[int]:
    """A port that accepts connections (the kernel completes them) and never answers: a server
    that hangs."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield int(sock.getsockname()[1])
