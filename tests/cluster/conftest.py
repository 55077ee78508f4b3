"""Fixtures of the cluster tests: one real cluster for the module, on servers of its own.

The cluster gets a fresh PostgreSQL database, a Redis database number no one else is using
(claimed with a lease key, so two test runs at once never share queues or rate-limit counters),
free ports, a temporary run directory, and a real SMTP server for the export's mail.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from redis import Redis, RedisError

from tests.cluster.cluster_support import Cluster, client, free_ports, required, run_cluster
from tests.tasks.task_support import Inbox, running_smtp

# One of these Redis databases, whichever is free (tests/tasks use 15). TEST_CLUSTER_REDIS_URL
# names the one to use instead.
REDIS_SERVER = "redis://127.0.0.1:6379"
REDIS_DATABASES = (13, 12, 11, 10)
LEASE_KEY = "microblog-cluster-test:lease"
LEASE_SECONDS = 600
APP_SERVERS = 2
# The limit on POST /api/tokens, per client, shared by every app server through Redis.
TOKEN_LIMIT = "3 per minute"


@pytest.fixture(scope="module")
def nginx_available() -> None:
    if not (shutil.which("nginx") or os.access("/usr/sbin/nginx", os.X_OK)):
        required("nginx is not installed (`make nginx` as root installs it)")


@pytest.fixture(scope="module")
def cluster_redis_url() -> Iterator[str]:
    """A Redis database of this module's own, emptied before and after."""
    explicit = os.environ.get("TEST_CLUSTER_REDIS_URL")
    urls = [explicit] if explicit else [f"{REDIS_SERVER}/{n}" for n in REDIS_DATABASES]
    lease = uuid.uuid4().hex
    for url in urls:
        redis = Redis.from_url(url, socket_connect_timeout=2)
        try:
            claimed = redis.set(LEASE_KEY, lease, nx=True, ex=LEASE_SECONDS)
        except RedisError as exc:
            redis.close()
            required(f"no Redis server at {url}: {exc}")
        if not claimed:
            redis.close()
            continue
        try:
            with redis.pipeline(transaction=True) as pipe:
                pipe.flushdb().set(LEASE_KEY, lease, ex=LEASE_SECONDS).execute()
            yield url
        finally:
            if redis.get(LEASE_KEY) == lease.encode():
                redis.flushdb()
            redis.close()
        return
    required(f"every Redis database in {urls} is leased by another test run")


@pytest.fixture(scope="module")
def mail_server() -> Iterator[tuple[int, Inbox]]:
    """A real SMTP server on 127.0.0.1, where the cluster's worker sends mail: (port, inbox)."""
    inbox = Inbox()
    with running_smtp(inbox) as port:
        yield port, inbox


@pytest.fixture
def mail_inbox(mail_server: tuple[int, Inbox]) -> Inbox:
    return mail_server[1]


@pytest.fixture(scope="module")
def cluster(
    nginx_available: None,
    cluster_redis_url: str,
    mail_server: tuple[int, Inbox],
    database_factory: Callable[[str], str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Cluster]:
    """nginx, APP_SERVERS gunicorn app servers and an RQ worker, as `make cluster` starts them."""
    database_url = database_factory("postgresql")
    run_dir: Path = tmp_path_factory.mktemp("cluster")
    port, *app_ports = free_ports(1 + APP_SERVERS)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": cluster_redis_url,
        "SECRET_KEY": f"cluster-test-{uuid.uuid4().hex}",
        "WEB_CONCURRENCY": "2",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(mail_server[0]),
        "RATELIMIT_ENABLED": "1",
        "RATELIMIT_TOKENS": TOKEN_LIMIT,
    }
    env.pop("PUBLIC_URL", None)  # scripts/cluster's own: nginx's address
    with run_cluster(run_dir, env, port, app_ports) as running:
        yield running


@pytest.fixture
def session() -> Iterator[requests.Session]:
    """An HTTP client of the test's own, from a loopback address of its own."""
    with client() as session:
        yield session
