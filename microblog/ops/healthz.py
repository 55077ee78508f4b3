"""`GET /healthz`: can this server answer requests? For load balancers and the cluster script.

- 200 `{"status": "ok", "database": "ok", "redis": "ok"}` when the database answers `SELECT 1`
  and Redis answers PING (`"redis": "not configured"` without REDIS_URL, still "ok").
- 200 `{"status": "degraded", "database": "ok", "redis": "unavailable"}` when the database
  answers and Redis does not. The server still serves everything but starting exports (rate
  limits count in each process's memory meanwhile), so a load balancer must keep it: with
  Redis shared by every server, a 503 here would take them all out at once. Monitoring sees
  "degraded" and can alert.
- 503 `{"status": "unavailable", "database": "unavailable", ...}` when the database does not
  answer, whatever Redis does: the server cannot serve, take it out.

The reason is logged, not shown: connection errors name hosts and users.

It answers quickly either way: the database is asked on a connection of its own with short
timeouts (PostgreSQL's connect timeout cannot be under 2 s), not through the application's
pool, whose connections wait as long as the driver lets them; Redis gets one second to connect
and answer, and no retries. No authentication, no rate limit.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, current_app, jsonify
from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

ENGINE = "microblog.healthz.engine"
OK = "ok"
DEGRADED = "degraded"
UNAVAILABLE = "unavailable"
NOT_CONFIGURED = "not configured"
REDIS_TIMEOUT = 1.0
DATABASE_TIMEOUT = 2  # seconds; libpq's (and psycopg's) smallest connect timeout


def init_app(app: Flask) -> None:
    app.add_url_rule("/healthz", "healthz", healthz)


def healthz() -> tuple[Response, int]:
    """Whether the database and Redis answer; only the database decides whether to serve."""
    database = check_database(current_app)
    redis = check_redis(current_app)
    status = overall_status(database, redis)
    response = jsonify(status=status, database=database, redis=redis)
    response.headers["Cache-Control"] = "no-store"
    return response, 503 if status == UNAVAILABLE else 200


def overall_status(database: str, redis: str) -> str:
    """Unavailable without the database, degraded without Redis, ok otherwise."""
    if database != OK:
        return UNAVAILABLE
    if redis not in (OK, NOT_CONFIGURED):
        return DEGRADED
    return OK


def check_database(app: Flask) -> str:
    try:
        with _engine(app).connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except Exception as exc:
        log.warning("health check: the database does not answer: %s", _reason(exc))
        return UNAVAILABLE
    return OK


def check_redis(app: Flask) -> str:
    url = app.config.get("REDIS_URL")
    if not url:
        return NOT_CONFIGURED
    try:
        with Redis.from_url(
            url,
            socket_connect_timeout=REDIS_TIMEOUT,
            socket_timeout=REDIS_TIMEOUT,
            retry=Retry(NoBackoff(), 0),
        ) as client:
            client.ping()
    except Exception as exc:
        log.warning("health check: Redis does not answer: %s", _reason(exc))
        return UNAVAILABLE
    return OK


def _reason(exc: Exception) -> str:
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {first_line}"


def _engine(app: Flask) -> sa.Engine:
    """An engine on the application's database that keeps no connection open between checks
    and gives up quickly."""
    engine: sa.Engine | None = app.extensions.get(ENGINE)
    if engine is None:
        url = sa.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
        engine = sa.create_engine(url, poolclass=NullPool, connect_args=_connect_args(url))
        app.extensions[ENGINE] = engine
    return engine


def _connect_args(url: sa.URL) -> dict[str, Any]:
    backend = url.get_backend_name()
    if backend == "postgresql":
        milliseconds = DATABASE_TIMEOUT * 1000
        return {
            "connect_timeout": DATABASE_TIMEOUT,
            "options": f"-c statement_timeout={milliseconds}",
        }
    if backend == "sqlite":
        return {"timeout": DATABASE_TIMEOUT}
    return {}
