"""A body over MAX_CONTENT_LENGTH is a 413 whether it states its length or comes chunked, on
both doors. Here through the test client, with the stream a server that decodes chunked
framing hands the app; tests/server/test_live_request_body.py sends real chunked requests to
gunicorn."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.api.api_helpers import assert_json_error
from tests.support import MIB, ApiUser, past_the_limit, post_past_the_limit
from tests.web.web_support import PASSWORD, Browser, text


def chunked(client: FlaskClient, path: str, body: bytes, **headers: str) -> TestResponse:
    """POST `body` with no Content-Length, as gunicorn hands a chunked body to the app: the
    framing decoded, `wsgi.input_terminated` set."""
    return client.post(
        path,
        input_stream=io.BytesIO(body),
        headers={"Transfer-Encoding": "chunked", **headers},
        environ_overrides={"wsgi.input_terminated": True},
    )


@pytest.fixture
def susan(make_user: Callable[..., ApiUser]) -> ApiUser:
    return make_user("susan", password=PASSWORD)


def post_count(client: FlaskClient, user: ApiUser) -> int:
    response = client.get(f"/api/users/{user.id}", headers=user.headers)
    count: int = response.json["post_count"]  # type: ignore[index]
    return count


@pytest.mark.parametrize("framing", ["chunked", "content-length"])
def test_an_api_body_over_one_mebibyte_is_413_however_it_is_framed(
    client: FlaskClient, susan: ApiUser, framing: str
) -> None:
    headers = {**susan.headers, "Content-Type": "application/json"}
    body = post_past_the_limit()
    if framing == "chunked":
        response = chunked(client, "/api/posts", body, **headers)
    else:
        response = client.post("/api/posts", data=body, headers=headers)

    assert_json_error(response, 413, f"larger than {MIB} bytes")
    assert post_count(client, susan) == 0


def test_a_chunked_api_body_within_the_limit_is_read_whole(
    client: FlaskClient, susan: ApiUser
) -> None:
    body = past_the_limit(b'{"body": "exactly one MiB"', b"")[:-1] + b"}"
    assert len(body) == MIB

    response = chunked(
        client, "/api/posts", body, **susan.headers, **{"Content-Type": "application/json"}
    )

    assert response.status_code == 201, response.json
    assert response.json is not None and response.json["body"] == "exactly one MiB"


def test_a_chunked_form_over_one_mebibyte_is_413_and_signs_no_one_in(
    app: Flask, susan: ApiUser
) -> None:
    browser = Browser(app.test_client())
    token = browser.csrf_token("/login")
    form = f"username=susan&password={PASSWORD}&csrf_token={token}&padding=".encode()
    body = past_the_limit(form, b"x")

    response = chunked(
        browser.client,
        "/login",
        body,
        **{"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html"},
    )

    assert response.status_code == 413
    assert f"larger than {MIB} bytes" in text(response)
    assert browser.signed_in_as() is None
