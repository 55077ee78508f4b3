"""Request ids and JSON log records: `X-Request-ID` on every response (the client's own when it
looks like an id), and records logged during a request tied to it."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from microblog.ops.logging import JsonFormatter

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
