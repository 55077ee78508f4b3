"""Header abuse against the real server: what gunicorn refuses itself it answers with an HTML
page, so its limits sit above the app's (gunicorn.conf.py), and the app answers oversized headers
and long URLs in JSON, naming what is wrong (microblog/http_errors.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests

from tests.server.live_support import LiveServer, call
from tests.support import ApiUser

pytestmark = pytest.mark.live

HUGE = "h" * 20_000  # over the app's 16 KiB per header line, under gunicorn's 32 KiB


def assert_json_error(response: requests.Response, status: int, *words: str) -> None:
    assert response.status_code == status, response.text[:300]
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"error", "message"}, body
    for word in words:
        assert word.lower() in body["message"].lower(), body["message"]


def post_count(server: LiveServer, user: ApiUser) -> int:
    me = call(server, "GET", "/api/me", headers=user.headers)
    assert me.status_code == 200, me.text
    count: int = me.json()["post_count"]
    return count


@pytest.mark.parametrize(
    ("name", "value", "status", "word"),
    [
        pytest.param("X-Padding", HUGE, 431, "X-Padding", id="20k-custom-header"),
        pytest.param("Authorization", "Bearer " + HUGE, 431, "Authorization", id="20k-bearer"),
        # Over gunicorn's old limit (8190), under the app's: the token check answers.
        pytest.param("Authorization", "Bearer " + "f" * 10_000, 401, "token", id="10k-bearer"),
        pytest.param("Authorization", "Bearer \xff\xfe", 401, "token", id="bearer-not-utf8"),
    ],
)
def test_an_abused_header_is_a_json_error_from_the_real_server_and_writes_nothing(
    live_server: LiveServer,
    register: Callable[..., ApiUser],
    name: str,
    value: str,
    status: int,
    word: str,
) -> None:
    user = register(live_server, "headers")
    headers = {**user.headers, name: value}

    response = call(live_server, "POST", "/api/posts", json={"body": "hi"}, headers=headers)

    assert_json_error(response, status, word)
    assert post_count(live_server, user) == 0


def test_a_query_string_past_gunicorns_old_request_line_limit_is_a_json_400(
    live_server: LiveServer, register: Callable[..., ApiUser]
) -> None:
    user = register(live_server, "longurl")

    # A 6000-character request line: gunicorn's default limit (4094) answered an HTML 414.
    response = call(live_server, "GET", "/api/users?page=" + "9" * 6000, headers=user.headers)

    assert_json_error(response, 400, "page")


def test_a_header_past_gunicorns_bound_is_still_refused_and_the_server_carries_on(
    live_server: LiveServer, register: Callable[..., ApiUser]
) -> None:
    """The app's limit is the one clients meet; gunicorn's (32 KiB) only bounds the memory a
    request can take before the app sees it, and answers with its own HTML 431."""
    user = register(live_server, "bound")

    response = call(
        live_server, "POST", "/api/posts", json={"body": "hi"}, headers={"X-Padding": "h" * 40_000}
    )

    assert response.status_code == 431
    assert post_count(live_server, user) == 0
