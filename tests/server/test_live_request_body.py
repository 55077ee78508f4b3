"""The real server (gunicorn, as `make run` starts it) refuses a chunked body over 1 MiB with
the 413 it gives the same body with a Content-Length, on both doors; it used to read the first
MiB and process it. The requests are written on a socket, chunk by chunk, as a client that
streams its upload does."""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import requests

from tests.server.live_support import REQUEST_TIMEOUT, LiveServer, call
from tests.support import MIB, ApiUser, past_the_limit, post_past_the_limit

CHUNK = 64 * 1024


@dataclass(frozen=True)
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> dict[str, str]:
        data: dict[str, str] = json.loads(self.body)
        return data


def send_chunked(server: LiveServer, path: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POST `body` in chunks of 64 KiB (Transfer-Encoding: chunked, no Content-Length) on a
    connection of its own, and read the answer. The server may answer before reading the whole
    body: then the rest is not sent."""
    head = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{server.port}", "Connection: close"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    head += ["Transfer-Encoding: chunked", "", ""]
    with socket.create_connection(("127.0.0.1", server.port), timeout=REQUEST_TIMEOUT) as sock:
        try:
            sock.sendall("\r\n".join(head).encode("latin-1"))
            for start in range(0, len(body), CHUNK):
                piece = body[start : start + CHUNK]
                sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
            sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        response = http.client.HTTPResponse(sock)
        response.begin()
        return Answer(response.status, response.headers, response.read())


@pytest.fixture
def poster(live_server: LiveServer, register: Callable[..., ApiUser]) -> ApiUser:
    return register(live_server, "chunked")


def posts_of(server: LiveServer, user: ApiUser) -> int:
    response = call(server, "GET", f"/api/users/{user.id}", headers=user.headers)
    count: int = response.json()["post_count"]
    return count


def test_a_chunked_api_body_over_one_mebibyte_is_413_as_with_a_content_length(
    live_server: LiveServer, poster: ApiUser
) -> None:
    headers = {**poster.headers, "Content-Type": "application/json"}

    answer = send_chunked(live_server, "/api/posts", post_past_the_limit(), headers)
    stated = call(live_server, "POST", "/api/posts", data=post_past_the_limit(), headers=headers)

    assert answer.status == 413, answer.body[:500]
    assert stated.status_code == 413
    assert answer.json() == stated.json()
    assert answer.json()["message"] == f"the request body is larger than {MIB} bytes"
    assert posts_of(live_server, poster) == 0


def test_a_chunked_api_body_within_the_limit_is_read_whole(
    live_server: LiveServer, poster: ApiUser
) -> None:
    body = past_the_limit(b'{"body": "streamed"', b"")[:-1] + b"}"
    headers = {**poster.headers, "Content-Type": "application/json"}

    answer = send_chunked(live_server, "/api/posts", body, headers)

    assert answer.status == 201, answer.body[:500]
    assert answer.json()["body"] == "streamed"


def test_a_chunked_form_over_one_mebibyte_is_413_and_signs_no_one_in(
    live_server: LiveServer, poster: ApiUser
) -> None:
    with requests.Session() as browser:
        page = browser.get(live_server.url("/login"), timeout=REQUEST_TIMEOUT)
        token = page.text.split('name="csrf_token" type="hidden" value="', 1)[1].split('"')[0]
        form = f"username={poster.username}&password={poster.password}&csrf_token={token}&p="
        cookie = "; ".join(f"{name}={value}" for name, value in browser.cookies.items())
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "text/html",
            "Cookie": cookie,
        }

        answer = send_chunked(live_server, "/login", past_the_limit(form.encode(), b"x"), headers)

        assert answer.status == 413, answer.body[:500]
        assert f"larger than {MIB} bytes" in answer.body.decode()
        session = answer.headers.get("Set-Cookie", "").split(";", 1)[0] or cookie
        home = call(live_server, "GET", "/explore", headers={"Cookie": session, **headers})
        assert home.status_code == 200 and "/login" in home.url  # sent to sign in
        # The same form within the limit signs in: the refusal was the size, not the form.
        within = send_chunked(live_server, "/login", form.encode(), headers)
        assert within.status == 302, within.body[:500]
