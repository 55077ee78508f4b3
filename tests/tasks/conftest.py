"""Fixtures for the task tests: a real Redis queue (the SMTP server is tests/conftest.py's)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from redis import Redis
from rq import Queue

from tests.support import redis_or_skip

# A database number of its own, so nothing here touches anyone else's keys.
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture(scope="session")
def redis_url() -> str:
    return redis_or_skip(TEST_REDIS_URL)


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
