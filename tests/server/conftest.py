"""The real server: migrated with `microblog db upgrade`, served by gunicorn as `make run` does.

`live_server` is one server per backend for the whole session (tests make their own uniquely
named users); `fresh_live_server` is a server of a test's own, on an empty database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.server.live_support import LiveServer, call, run_live_server, unique_name
from tests.support import ApiUser


@pytest.fixture(scope="session")
def live_server(
    backend: str,
    database_factory: Callable[[str], str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LiveServer]:
    """One real server per backend for the session; tests must use unique usernames."""
    with run_live_server(database_factory(backend), tmp_path_factory.mktemp("live")) as server:
        yield server


@pytest.fixture(scope="session")
def served_document(live_server: LiveServer) -> dict[str, Any]:
    """The OpenAPI document as the live server serves it."""
    response = call(live_server, "GET", "/api/openapi.json")
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


@pytest.fixture
def fresh_live_server(
    backend: str,
    database_factory: Callable[[str], str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LiveServer]:
    """A real server of this test's own, on an empty database."""
    with run_live_server(database_factory(backend), tmp_path_factory.mktemp("fresh")) as server:
        yield server


@pytest.fixture
def register() -> Callable[..., ApiUser]:
    """Signs a new, uniquely named user up over HTTP and gets them a token."""

    def make(server: LiveServer, prefix: str = "user", password: str = "correct-horse") -> ApiUser:
        username = unique_name(prefix)
        email = f"{username}@example.com"
        created = call(
            server,
            "POST",
            "/api/users",
            json={"username": username, "email": email, "password": password},
        )
        assert created.status_code == 201, created.text
        token = call(server, "POST", "/api/tokens", auth=(username, password))
        assert token.status_code == 200, token.text
        return ApiUser(created.json()["id"], username, email, password, token.json()["token"])

    return make
