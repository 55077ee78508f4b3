"""API4:2023 Unrestricted resource consumption: what a client can make the server do is bounded.

Covered elsewhere and cited in SECURITY.md: bodies over 1 MiB (tests/api/test_api_errors.py),
`per_page` capped at 100 (tests/api/test_api_collections.py), search queries over 200
characters (tests/api/test_api_search.py), token and sign-up rate limits and the per-token API
budget (tests/api/test_api_ratelimits.py). Here: the web site's forms, export frequency, and
the sign-in limit of the web site.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from microblog.extensions import db
from microblog.tasks.models import Task
from microblog.tasks.services import STARTS_ALLOWED, STARTS_WINDOW
from tests.api.api_helpers import assert_json_error
from tests.support import ApiUser, basic_auth
from tests.tasks.task_support import finished_exports
from tests.web.web_support import Browser, text

PAGE = {"Accept": "text/html"}


def test_a_form_body_over_one_mebibyte_is_refused_with_413(app: Flask) -> None:
    browser = Browser(app.test_client())
    response = browser.post(
        "/login", {"username": "x" * (1024 * 1024 + 1), "password": "x"}, token_from="/login"
    )
    assert response.status_code == 413


def test_exports_past_the_hourly_allowance_are_refused_with_when_to_retry(
    app: Flask, client: FlaskClient, victim: ApiUser, attacker: ApiUser
) -> None:
    window = STARTS_WINDOW.total_seconds() / 60
    # The oldest start leaves the window in 10 minutes; one older still no longer counts.
    finished_exports(app, victim.id, window + 5, window - 10, *[1] * (STARTS_ALLOWED - 1))

    refused = client.post("/api/tasks", json={"name": "export_posts"}, headers=victim.headers)

    assert_json_error(refused, 409, f"{STARTS_ALLOWED} export_posts tasks per hour", "10 minutes")
    with app.app_context():
        assert db.session.query(Task).filter_by(user_id=victim.id).count() == STARTS_ALLOWED + 1
    # Another person's allowance is their own.
    other = client.post("/api/tasks", json={"name": "export_posts"}, headers=attacker.headers)
    assert other.status_code == 202


def test_exports_within_the_allowance_start(
    app: Flask, client: FlaskClient, victim: ApiUser
) -> None:
    finished_exports(app, victim.id, *[1] * (STARTS_ALLOWED - 1))
    started = client.post("/api/tasks", json={"name": "export_posts"}, headers=victim.headers)
    assert started.status_code == 202


def test_the_site_refuses_exports_past_the_allowance_too(app: Flask, victim: ApiUser) -> None:
    finished_exports(app, victim.id, *[1] * STARTS_ALLOWED)
    browser = Browser(app.test_client())
    browser.login("victim", victim.password)

    answer = browser.post("/export", token_from="/user/victim", follow_redirects=True)

    assert "tasks per hour" in text(answer)
    with app.app_context():
        assert db.session.query(Task).filter_by(user_id=victim.id).count() == STARTS_ALLOWED


@pytest.fixture
def limited_app(make_other_app: Callable[..., Flask]) -> Flask:
    """The app with rate limits on, 3 sign-in attempts a minute, on the test's database."""
    return make_other_app(RATELIMIT_ENABLED=True, RATELIMIT_TOKENS="3 per minute")


def from_address(address: str) -> dict[str, Any]:
    return {"environ_base": {"REMOTE_ADDR": address}}


def _sign_in(browser: Browser, username: str, password: str, address: str) -> Any:
    token = browser.csrf_token("/login")
    return browser.client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        headers=PAGE,
        **from_address(address),
    )


def test_web_sign_in_attempts_are_limited_per_address(limited_app: Flask, victim: ApiUser) -> None:
    browser = Browser(limited_app.test_client())
    for attempt in range(3):
        assert _sign_in(browser, f"guess{attempt}", "x", "203.0.113.7").status_code == 200

    refused = _sign_in(browser, "victim", victim.password, "203.0.113.7")

    assert refused.status_code == 429
    assert refused.mimetype == "text/html"
    assert "too many sign-in attempts from this address" in text(refused)
    assert int(refused.headers["Retry-After"]) >= 1
    assert browser.get("/login", **from_address("203.0.113.7")).status_code == 200
    assert _sign_in(browser, "victim", victim.password, "192.0.2.1").status_code == 302


def test_web_sign_in_attempts_are_limited_per_account_from_any_address(
    limited_app: Flask, victim: ApiUser, attacker: ApiUser
) -> None:
    browser = Browser(limited_app.test_client())
    for attempt, login in enumerate(("victim", "VICTIM", "victim@example.com")):
        assert _sign_in(browser, login, "guess", f"10.0.0.{attempt}").status_code == 200

    refused = _sign_in(browser, "victim", victim.password, "10.0.0.9")

    assert refused.status_code == 429
    assert "too many password attempts for this account" in text(refused)
    assert _sign_in(browser, "attacker", attacker.password, "10.0.0.9").status_code == 302


def test_the_web_form_and_the_api_share_one_sign_in_budget(
    limited_app: Flask, victim: ApiUser
) -> None:
    browser = Browser(limited_app.test_client())
    assert _sign_in(browser, "victim", "guess", "10.1.0.1").status_code == 200
    assert _sign_in(browser, "victim", "guess", "10.1.0.2").status_code == 200
    api = limited_app.test_client()
    guess = api.post(
        "/api/tokens", headers=basic_auth("victim", "guess"), **from_address("10.1.0.3")
    )
    assert guess.status_code == 401

    refused = api.post(
        "/api/tokens", headers=basic_auth("victim", victim.password), **from_address("10.1.0.4")
    )

    assert_json_error(refused, 429, "password attempts", "account")
