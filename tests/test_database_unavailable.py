"""A database that cannot be reached is the server's trouble, not the client's: 503 with
Retry-After, in JSON or HTML as the client prefers, never a 500 with a traceback."""

from __future__ import annotations

import socket

import pytest
from flask import Flask

from tests.support import make_app


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def unreachable() -> Flask:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/gone?connect_timeout=2"
    app = make_app(url)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    return app


def test_an_api_read_without_a_database_is_503_with_retry_after(unreachable: Flask) -> None:
    response = unreachable.test_client().get(
        "/api/users/1", headers={"Authorization": "Bearer " + "0" * 64}
    )

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert response.json == {
        "error": "Service Unavailable",
        "message": "the database is unavailable for a moment; please retry",
    }


def test_an_api_write_without_a_database_is_503(unreachable: Flask) -> None:
    response = unreachable.test_client().post(
        "/api/users",
        json={"username": "susan", "email": "susan@example.com", "password": "cat-on-keyboard"},
    )

    assert response.status_code == 503
    assert response.json["error"] == "Service Unavailable"


def test_a_page_without_a_database_is_a_503_page(unreachable: Flask) -> None:
    unreachable.config["WTF_CSRF_ENABLED"] = False
    response = unreachable.test_client().post(
        "/login",
        data={"username": "susan", "password": "cat-on-keyboard"},
        headers={"Accept": "text/html"},
    )

    assert response.status_code == 503
    assert response.mimetype == "text/html"
    assert "please retry" in response.get_data(as_text=True)
