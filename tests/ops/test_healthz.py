"""GET /healthz: 200 "ok" when the database (and Redis, when configured) answer; 200 "degraded"
when only Redis does not, so a load balancer keeps the server; 503 "unavailable" when the
database does not. Quickly, even when a part hangs."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.ops.ops_support import closed_port, redis_or_skip, silent_server


def _timed_health(app: Flask) -> tuple[TestResponse, float]:
    started = time.monotonic()
    response = app.test_client().get("/healthz")
    return response, time.monotonic() - started


def test_healthy_without_redis(client: FlaskClient) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "redis": "not configured"}
    assert response.headers["Cache-Control"] == "no-store"


def test_healthy_with_redis(make_other_app: Callable[..., Flask]) -> None:
    app = make_other_app(REDIS_URL=redis_or_skip())

    response, _seconds = _timed_health(app)

    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "redis": "ok"}


def test_needs_no_authentication_and_answers_head(client: FlaskClient) -> None:
    assert client.head("/healthz").status_code == 200
    assert client.get("/healthz", headers={"Authorization": "Bearer nonsense"}).status_code == 200


@pytest.mark.parametrize("failure", ["refused", "silent"])
def test_healthz_is_503_when_the_database_is_unreachable(
    make_other_app: Callable[..., Flask], failure: str, caplog: pytest.LogCaptureFixture
) -> None:
    with silent_server() as silent:
        port = closed_port() if failure == "refused" else silent
        app = make_other_app(f"postgresql+psycopg://postgres@127.0.0.1:{port}/microblog")

        response, seconds = _timed_health(app)

    assert response.status_code == 503
    assert response.json == {
        "status": "unavailable",
        "database": "unavailable",
        "redis": "not configured",
    }
    # PostgreSQL's connect timeout cannot be shorter than 2 s.
    assert seconds < 3.5
    assert "the database does not answer" in caplog.text


def test_unavailable_when_the_sqlite_file_cannot_be_opened(
    make_other_app: Callable[..., Flask], tmp_path: Path
) -> None:
    app = make_other_app(f"sqlite:///{tmp_path}/no/such/folder/microblog.db")

    response, _seconds = _timed_health(app)

    assert response.status_code == 503
    assert response.json["database"] == "unavailable"


@pytest.mark.parametrize("failure", ["refused", "silent"])
def test_healthz_is_200_and_degraded_when_redis_does_not_answer_within_a_second(
    make_other_app: Callable[..., Flask], failure: str, caplog: pytest.LogCaptureFixture
) -> None:
    with silent_server() as silent:
        port = closed_port() if failure == "refused" else silent
        app = make_other_app(REDIS_URL=f"redis://127.0.0.1:{port}/0")

        response, seconds = _timed_health(app)

    # The server still serves all but new exports: a load balancer must keep it.
    assert response.status_code == 200
    assert response.json == {"status": "degraded", "database": "ok", "redis": "unavailable"}
    assert response.headers["Cache-Control"] == "no-store"
    assert seconds < 1.5
    assert "Redis does not answer" in caplog.text
    # Connection errors name hosts and users: logged, not shown.
    assert "127.0.0.1" not in response.get_data(as_text=True)


def test_healthz_is_503_not_degraded_when_the_database_and_redis_are_both_unreachable(
    make_other_app: Callable[..., Flask],
) -> None:
    app = make_other_app(
        f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/microblog",
        REDIS_URL=f"redis://127.0.0.1:{closed_port()}/0",
    )

    response, _seconds = _timed_health(app)

    assert response.status_code == 503
    assert response.json == {
        "status": "unavailable",
        "database": "unavailable",
        "redis": "unavailable",
    }
