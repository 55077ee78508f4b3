"""Rate limits: token guessing per address and per account, sign-ups per address, a budget per
token on the whole API, the IETF RateLimit headers, and counts shared through Redis by several
app servers, which keep answering when Redis does not."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from microblog.accounts.models import User
from microblog.api.openapi import openapi_document
from microblog.config import rate_limits_from_environment
from microblog.extensions import db, limiter
from tests.api.api_helpers import ApiUser, assert_json_error, basic_auth, make_app
from tests.ops.ops_support import (
    closed_port,
    silent_server,
)

LIMIT_HEADERS = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset")


@pytest.fixture
def make_limited_app(app: Flask, database_url: str) -> Iterator[Callable[..., Flask]]:
    """Apps with rate limits on, on the test's (emptied) database: each one is a server."""
    made: list[Flask] = []

    def make(**overrides: Any) -> Flask:
        limited = make_app(database_url, RATELIMIT_ENABLED=True, **overrides)
        made.append(limited)
        return limited

    yield make
    for limited in made:
        with limited.app_context():
            db.session.remove()
            db.engine.dispose()


def from_address(address: str) -> dict[str, Any]:
    return {"environ_base": {"REMOTE_ADDR": address}}


def bearer(user: ApiUser) -> dict[str, str]:
    return {"Authorization": f"Bearer {user.token}"}


def limit_headers(response: TestResponse) -> tuple[int, int, int]:
    limit, remaining, reset = (int(response.headers[name]) for name in LIMIT_HEADERS)
    return limit, remaining, reset


def assert_too_many(response: TestResponse, *words: str) -> None:
    assert_json_error(response, 429, *words)
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 3600
    limit, remaining, reset = limit_headers(response)
    assert limit > 0 and remaining == 0
    assert 0 <= reset <= 3600


def test_limits_are_off_in_tests_unless_a_test_turns_them_on(
    client: FlaskClient, susan: ApiUser
) -> None:
    for _ in range(30):
        response = client.post("/api/tokens", headers=basic_auth("susan", "wrong"))
        assert response.status_code == 401
        assert not any(name in response.headers for name in LIMIT_HEADERS)
    assert client.application.config["RATELIMIT_ENABLED"] is False


def test_limits_are_on_by_default_and_configured_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("RATELIMIT_ENABLED", "RATELIMIT_TOKENS", "RATELIMIT_SIGNUPS", "RATELIMIT_API"):
        monkeypatch.delenv(name, raising=False)
    defaults = rate_limits_from_environment()
    assert defaults["RATELIMIT_ENABLED"] is True
    assert defaults["RATELIMIT_TOKENS"] == "30 per minute"
    assert defaults["RATELIMIT_SIGNUPS"] == "100 per hour"
    assert defaults["RATELIMIT_API"] == "600 per minute"

    monkeypatch.setenv("RATELIMIT_ENABLED", "false")
    monkeypatch.setenv("RATELIMIT_TOKENS", "3/minute")
    chosen = rate_limits_from_environment()
    assert chosen["RATELIMIT_ENABLED"] is False
    assert chosen["RATELIMIT_TOKENS"] == "3/minute"


def test_a_limit_that_is_not_one_stops_the_app_at_start(database_url: str) -> None:
    with pytest.raises(ValueError, match="RATELIMIT_TOKENS"):
        make_app(database_url, RATELIMIT_ENABLED=True, RATELIMIT_TOKENS="ten a minute")


def test_token_requests_are_limited_per_address(
    make_limited_app: Callable[..., Flask], susan: ApiUser
) -> None:
    client = make_limited_app(RATELIMIT_TOKENS="3 per minute").test_client()
    guesser = from_address("203.0.113.7")

    for attempt in range(3):
        # A different username each time: only the address limit can stop these.
        response = client.post("/api/tokens", headers=basic_auth(f"u{attempt}", "x"), **guesser)
        assert response.status_code == 401
        assert limit_headers(response)[:2] == (3, 2 - attempt)
    refused = client.post("/api/tokens", headers=basic_auth("susan", "correct-horse"), **guesser)
    assert_too_many(refused, "token requests", "address")

    elsewhere = client.post(
        "/api/tokens", headers=basic_auth("susan", "correct-horse"), **from_address("192.0.2.1")
    )
    assert elsewhere.status_code == 200


def test_token_requests_are_limited_per_account_from_any_address_by_any_of_its_names(
    make_limited_app: Callable[..., Flask], susan: ApiUser, bob: ApiUser
) -> None:
    client = make_limited_app(RATELIMIT_TOKENS="3 per minute").test_client()

    for attempt, login in enumerate(("susan", "SUSAN", "susan@example.com")):
        response = client.post(
            "/api/tokens", headers=basic_auth(login, "guess"), **from_address(f"10.0.0.{attempt}")
        )
        assert response.status_code == 401
    refused = client.post(
        "/api/tokens", headers=basic_auth("susan", "correct-horse"), **from_address("10.0.0.9")
    )
    assert_too_many(refused, "password attempts", "account")

    other = client.post(
        "/api/tokens", headers=basic_auth("bob", "correct-horse"), **from_address("10.0.0.9")
    )
    assert other.status_code == 200


def _user_count(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(User)) or 0)


def test_sign_ups_are_limited_per_address_through_the_api_and_the_web_site_together(
    make_limited_app: Callable[..., Flask],
) -> None:
    limited = make_limited_app(RATELIMIT_SIGNUPS="2 per hour", WTF_CSRF_ENABLED=False)
    client = limited.test_client()
    signer = from_address("198.51.100.4")

    def sign_up(name: str, **where: Any) -> TestResponse:
        body = {"username": name, "email": f"{name}@example.com", "password": "correct-horse"}
        return client.post("/api/users", json=body, **where)

    assert sign_up("one", **signer).status_code == 201
    assert sign_up("two", **signer).status_code == 201
    assert_too_many(sign_up("three", **signer), "sign-ups")

    form = {
        "username": "four",
        "email": "four@example.com",
        "password": "correct-horse",
        "password2": "correct-horse",
    }
    page = client.post("/register", data=form, headers={"Accept": "text/html"}, **signer)
    assert page.status_code == 429
    assert page.mimetype == "text/html"
    assert client.get("/register", **signer).status_code == 200
    assert _user_count(limited) == 2

    assert sign_up("five", **from_address("198.51.100.5")).status_code == 201


def test_the_api_budget_is_per_token(
    make_limited_app: Callable[..., Flask], susan: ApiUser, bob: ApiUser
) -> None:
    client = make_limited_app(RATELIMIT_API="5 per minute").test_client()

    for used in range(1, 6):
        response = client.get(f"/api/users/{susan.id}", headers=bearer(susan))
        assert response.status_code == 200
        assert limit_headers(response)[:2] == (5, 5 - used)
    assert_too_many(client.get(f"/api/users/{susan.id}", headers=bearer(susan)), "budget")

    # The same address, another token: a budget of its own; and without a token, the address's.
    assert client.get("/api/me", headers=bearer(bob)).status_code == 200
    assert client.get("/api/me").status_code == 401


def test_requests_with_refused_credentials_are_counted_per_address(
    make_limited_app: Callable[..., Flask], susan: ApiUser
) -> None:
    client = make_limited_app(RATELIMIT_API="3 per minute").test_client()
    forger = from_address("203.0.113.66")

    for _ in range(3):
        # A new invented token each time: each has a fresh token budget, not a fresh address.
        invented = {"Authorization": f"Bearer {secrets.token_hex(32)}"}
        assert client.get("/api/me", headers=invented, **forger).status_code == 401
    invented = {"Authorization": f"Bearer {secrets.token_hex(32)}"}
    assert_too_many(client.get("/api/me", headers=invented, **forger), "refused credentials")

    assert client.get(
        "/api/me", headers=bearer(susan), **from_address("192.0.2.8")
    ).status_code == (200)


def test_api_responses_carry_the_ratelimit_headers_and_other_pages_do_not(
    make_limited_app: Callable[..., Flask], susan: ApiUser
) -> None:
    client = make_limited_app().test_client()
    answers = [
        client.get("/api/users"),
        client.get("/api/me", headers=bearer(susan)),
        client.post("/api/tokens", headers=basic_auth("susan", "correct-horse")),
        client.get("/api/openapi.json"),
    ]
    for response in answers:
        limit, remaining, reset = limit_headers(response)
        assert limit > 0 and 0 <= remaining < limit and 0 < reset <= 3600, response.request.path
        assert "Retry-After" not in response.headers

    for path in ("/healthz", "/metrics", "/login"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert not any(name in response.headers for name in LIMIT_HEADERS), path


def test_health_checks_and_metrics_are_never_rate_limited(
    make_limited_app: Callable[..., Flask],
) -> None:
    client = make_limited_app(RATELIMIT_API="1 per minute").test_client()
    for _ in range(5):
        assert client.get("/healthz").status_code == 200
        assert client.get("/metrics").status_code == 200


def test_two_app_servers_on_one_redis_share_the_counts(
    make_limited_app: Callable[..., Flask], redis_prefix: tuple[str, str]
) -> None:
    url, prefix = redis_prefix
    settings = {"REDIS_URL": url, "RATELIMIT_KEY_PREFIX": prefix, "RATELIMIT_TOKENS": "4/minute"}
    servers = [make_limited_app(**settings).test_client() for _ in range(2)]

    answers = [
        servers[attempt % 2].post("/api/tokens", headers=basic_auth(f"nobody{attempt}", "x"))
        for attempt in range(5)
    ]

    assert [answer.status_code for answer in answers] == [401, 401, 401, 401, 429]
    assert [int(answer.headers["RateLimit-Remaining"]) for answer in answers] == [3, 2, 1, 0, 0]
    with Redis.from_url(url) as redis:
        assert list(redis.scan_iter(match=f"*LIMITER/{prefix}/*"))


def test_each_app_has_a_limiter_of_its_own(make_limited_app: Callable[..., Flask]) -> None:
    first, second = make_limited_app(), make_limited_app()
    with first.app_context():
        mine = limiter.storage
    with second.app_context():
        theirs = limiter.storage
    assert mine is not theirs


def test_without_redis_each_server_counts_for_itself(
    make_limited_app: Callable[..., Flask],
) -> None:
    """The contrast that makes the test above mean something: two apps in one process do not
    share counts through anything but the storage."""
    servers = [make_limited_app(RATELIMIT_TOKENS="2/minute").test_client() for _ in range(2)]
    for server in servers:
        statuses = [
            server.post("/api/tokens", headers=basic_auth(f"n{i}", "x")).status_code
            for i in range(3)
        ]
        assert statuses == [401, 401, 429]


def _timed(call: Callable[[], TestResponse]) -> tuple[TestResponse, float]:
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


@pytest.mark.parametrize("failure", ["refused", "silent"])
def test_the_api_answers_when_redis_is_down_and_keeps_counting_in_memory(
    make_limited_app: Callable[..., Flask], susan: ApiUser, failure: str
) -> None:
    with silent_server() as silent:
        port = closed_port() if failure == "refused" else silent
        limited = make_limited_app(
            REDIS_URL=f"redis://127.0.0.1:{port}/0", RATELIMIT_API="4 per minute"
        )
        client = limited.test_client()

        statuses = []
        for _ in range(5):
            response, seconds = _timed(lambda: client.get("/api/me", headers=bearer(susan)))
            assert seconds < 2, f"{seconds:.2f} s with Redis {failure}"
            statuses.append(response.status_code)
            assert "RateLimit-Remaining" in response.headers

    assert statuses == [200, 200, 200, 200, 429]


def test_the_openapi_document_tells_of_429_and_the_ratelimit_headers(app: Flask) -> None:
    document = openapi_document(app)
    assert "Rate limits" in document["info"]["description"]
    too_many = document["components"]["responses"]["TooManyRequests"]
    assert too_many["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    assert set(too_many["headers"]) == {"Retry-After", *LIMIT_HEADERS}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            where = f"{method.upper()} {path}"
            responses = operation["responses"]
            assert responses["429"] == {"$ref": "#/components/responses/TooManyRequests"}, where
            success = next(r for status, r in responses.items() if status.startswith("2"))
            assert set(LIMIT_HEADERS) <= set(success["headers"]), where
    for name in (*LIMIT_HEADERS, "Retry-After"):
        assert document["components"]["headers"][name]["schema"]["type"] == "integer"
