"""Fixtures of the fault tests: a PostgreSQL, a Redis and a cluster of their own to break.

The cluster is the one `make cluster` starts (scripts/cluster: nginx in front of two gunicorn
app servers, and an RQ worker), on the private PostgreSQL and Redis, on free ports, with a real
SMTP server for the export's mail.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cluster.cluster_support import Cluster, free_ports, run_cluster
from tests.faults.services import PrivatePostgres, PrivateRedis, postgres_bin, redis_server
from tests.support import required_or_skip
from tests.tasks.task_support import Inbox, running_smtp

APP_SERVERS = 2
WORKERS_PER_APP_SERVER = 2
# Generous limits: the load must not be refused, but the limiter must count (in Redis, or in
# memory while Redis is away) on every request.
RATE_LIMITS = {
    "RATELIMIT_ENABLED": "1",
    "RATELIMIT_API": "100000 per minute",
    "RATELIMIT_TOKENS": "1000 per minute",
    "RATELIMIT_SIGNUPS": "1000 per hour",
}


@pytest.fixture(scope="module")
def fault_tools() -> None:
    """Everything the fault tests start must be installed (under CI, or the test fails)."""
    if not (shutil.which("nginx") or os.access("/usr/sbin/nginx", os.X_OK)):
        required_or_skip("nginx is not installed (`make nginx` as root installs it)")
    postgres_bin()
    redis_server()


@pytest.fixture(scope="module")
def private_postgres(fault_tools: None) -> Iterator[PrivatePostgres]:
    server = PrivatePostgres(free_ports(1)[0])
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.remove()


@pytest.fixture(scope="module")
def private_redis(
    fault_tools: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PrivateRedis]:
    server = PrivateRedis(free_ports(1)[0], tmp_path_factory.mktemp("redis") / "redis.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def smtp_port() -> Iterator[int]:
    """A real SMTP server where the worker (or an app server) mails exports."""
    with running_smtp(Inbox()) as port:
        yield port


@pytest.fixture(scope="module")
def cluster_env(
    private_postgres: PrivatePostgres, private_redis: PrivateRedis, smtp_port: int
) -> dict[str, str]:
    """The environment every process of the cluster gets (and an app server restarted by a
    test too)."""
    return {
        **os.environ,
        "DATABASE_URL": private_postgres.url("microblog"),
        "REDIS_URL": private_redis.url,
        "SECRET_KEY": f"faults-{uuid.uuid4().hex}",
        "WEB_CONCURRENCY": str(WORKERS_PER_APP_SERVER),
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(smtp_port),
        **RATE_LIMITS,
    }


@pytest.fixture(scope="module")
def fault_cluster(
    cluster_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    run_dir: Path = tmp_path_factory.mktemp("faults-cluster")
    port, *app_ports = free_ports(1 + APP_SERVERS)
    with run_cluster(run_dir, cluster_env, port, app_ports) as running:
        yield running
