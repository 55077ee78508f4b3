"""Request ids and JSON log records: `X-Request-ID` on every response (the client's own when it
looks like an id), and records logged during a request tied to it."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from types import SimpleNamespace

import pytest
from flask import Flask, request
from flask.testing import FlaskClient

from microblog.ops.logging import JsonFormatter, access_fields, redact

GENERATED = re.compile(r"[0-9a-f]{32}")


@pytest.mark.parametrize("given", ["abc-123", "nginx.5f2b1c9e", "req:2024/01/01+7=x@host"])
def test_a_sane_incoming_request_id_is_sent_back(client: FlaskClient, given: str) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": given})

    assert response.headers["X-Request-ID"] == given


@pytest.mark.parametrize(
    "given", ["", "has spaces", "<script>", "x" * 129, '"quoted"', "-leading-dash", "ü-umlaut"]
)
def test_an_odd_incoming_request_id_is_replaced(client: FlaskClient, given: str) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": given})

    assert GENERATED.fullmatch(response.headers["X-Request-ID"])


def test_every_response_gets_an_id_of_its_own(client: FlaskClient) -> None:
    responses = [
        client.get("/healthz"),
        client.get("/api/users"),
        client.get("/no/such/page"),
        client.post("/api/tokens"),
        client.get("/login"),
    ]
    ids = [response.headers["X-Request-ID"] for response in responses]

    assert all(GENERATED.fullmatch(request_id) for request_id in ids)
    assert len(set(ids)) == len(ids)


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """What the `microblog.test` logger writes, through the JSON formatter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("microblog.test")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)


def _records(stream: io.StringIO) -> list[dict[str, object]]:
    lines = stream.getvalue().splitlines()
    return [json.loads(line) for line in lines]


@pytest.fixture
def logging_app(make_other_app: Callable[..., Flask]) -> Flask:
    app = make_other_app()

    def log_something() -> str:
        logger = logging.getLogger("microblog.test")
        logger.warning("hello %s", "world", extra={"answer": 42})
        try:
            raise RuntimeError("boom\non two lines")
        except RuntimeError:
            logger.exception("it failed")
        return "logged"

    app.add_url_rule("/log-something", "log_something", log_something)
    return app


def test_records_logged_during_a_request_are_json_with_its_id(
    logging_app: Flask, captured: io.StringIO
) -> None:
    response = logging_app.test_client().get(
        "/log-something?x=1", headers={"X-Request-ID": "trace-me"}
    )

    assert response.status_code == 200
    hello, failed = _records(captured)
    assert hello["message"] == "hello world"
    assert hello["level"] == "WARNING"
    assert hello["logger"] == "microblog.test"
    assert hello["answer"] == 42
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}", str(hello["time"]))
    assert isinstance(hello["pid"], int)
    for record in (hello, failed):
        assert record["request_id"] == "trace-me" == response.headers["X-Request-ID"]
        assert record["method"] == "GET"
        assert record["path"] == "/log-something"
    # A traceback stays inside its one line.
    assert len(captured.getvalue().splitlines()) == 2
    assert "RuntimeError: boom" in str(failed["exc_info"])


def test_records_logged_outside_a_request_have_no_request_id(captured: io.StringIO) -> None:
    logging.getLogger("microblog.test").info("starting")

    (record,) = _records(captured)
    assert record["message"] == "starting"
    assert "request_id" not in record


# --- secrets in URLs ------------------------------------------------------------------------

RESET_TOKEN = "eyJ1c2VyIjoiMTpzZWNyZXQifQ.Z1x2Yw.c2lnbmF0dXJlLW9mLXRoZS1saW5r"
SECRET_QUERY = "access_token=query-secret-1&page=2&code=query-secret-2"


def test_a_record_logged_during_a_reset_link_s_request_shows_no_token(
    make_other_app: Callable[..., Flask], captured: io.StringIO
) -> None:
    url = f"/reset_password/{RESET_TOKEN}?{SECRET_QUERY}"
    with make_other_app().test_request_context(url):
        logging.getLogger("microblog.test").warning("while opening %s", request.url)

    (record,) = _records(captured)
    line = captured.getvalue()
    assert RESET_TOKEN not in line and "query-secret" not in line
    assert record["path"] == "/reset_password/[redacted]"
    assert record["message"] == (
        "while opening http://localhost/reset_password/[redacted]"
        "?access_token=[redacted]&page=2&code=[redacted]"
    )


def test_the_access_log_shows_no_token_in_the_path_query_or_referer() -> None:
    answer = SimpleNamespace(status="200 OK", headers=[("X-Request-ID", "r-1")], sent=10)
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": f"/reset_password/{RESET_TOKEN}",
        "QUERY_STRING": SECRET_QUERY,
        "HTTP_REFERER": f"https://microblog.example.com/reset_password/{RESET_TOKEN}",
    }

    fields = access_fields(answer, environ, timedelta(milliseconds=3))

    assert fields["path"] == "/reset_password/[redacted]"
    assert fields["query"] == "access_token=[redacted]&page=2&code=[redacted]"
    assert fields["referer"] == "https://microblog.example.com/reset_password/[redacted]"


def test_the_development_server_s_request_lines_show_no_token(
    make_other_app: Callable[..., Flask],
) -> None:
    make_other_app()  # as `flask run` does, before serving
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    server_log = logging.getLogger("werkzeug")
    server_log.addHandler(handler)
    try:
        server_log.warning('127.0.0.1 "%s" %s', f"GET /reset_password/{RESET_TOKEN} HTTP/1.1", 200)
    finally:
        server_log.removeHandler(handler)

    assert stream.getvalue() == '127.0.0.1 "GET /reset_password/[redacted] HTTP/1.1" 200\n'


@pytest.mark.parametrize(
    "harmless", ["/api/posts?q=token&page=2", "/user/keyboard-cat", "/reset_password_request"]
)
def test_urls_without_secrets_are_logged_as_they_are(harmless: str) -> None:
    assert redact(harmless) == harmless
