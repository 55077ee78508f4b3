"""The budget of password guesses: one per account, whatever name, encoding or door is used,
spent by signing in and by every check of a signed-in person's current password; counted in
Redis (or memory), and never skipped when the request or the storage misbehaves."""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from werkzeug.test import TestResponse

from tests.api.api_helpers import assert_json_error, basic_auth
from tests.ops.ops_support import closed_port
from tests.support import ApiUser
from tests.web.web_support import Browser, flashes

BUDGET = "3 per minute"


def from_address(address: str) -> dict[str, Any]:
    return {"environ_base": {"REMOTE_ADDR": address}}


def raw_basic(credentials: bytes) -> dict[str, str]:
    """A Basic header of `credentials` as sent, bytes and all (latin-1 keeps each byte)."""
    return {"Authorization": "Basic " + credentials.decode("latin-1")}


def assert_account_budget_spent(response: TestResponse) -> None:
    assert_json_error(response, 429, "too many password attempts", "account")
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert response.headers["RateLimit-Limit"] == "3"
    assert response.headers["RateLimit-Remaining"] == "0"


@pytest.fixture
def limited(make_other_app: Callable[..., Flask]) -> Callable[..., FlaskClient]:
    """A client of an app with rate limits on and a budget of three guesses a minute."""

    def make(**overrides: Any) -> FlaskClient:
        settings = {"RATELIMIT_ENABLED": True, "RATELIMIT_TOKENS": BUDGET, **overrides}
        return make_other_app(**settings).test_client()

    return make


def test_a_username_its_email_address_and_any_encoding_of_them_share_one_budget(
    limited: Callable[..., FlaskClient], victim: ApiUser, caplog: pytest.LogCaptureFixture
) -> None:
    client = limited()
    encoded = base64.b64encode(b"victim@example.com:wrong-guess").decode()
    guesses = [
        basic_auth("VICTIM", "wrong-guess"),
        # A character outside base64's alphabet, which the decoder skips.
        {"Authorization": f"Basic {encoded[:4]}!{encoded[4:]}"},
        # A byte that is not ASCII, in the password.
        raw_basic(base64.b64encode("victim:wr\u00f6ng".encode())),
    ]
    for number, guess in enumerate(guesses):
        response = client.post("/api/tokens", headers=guess, **from_address(f"10.1.0.{number}"))
        assert response.status_code == 401, response.json

    right = basic_auth("victim", victim.password)
    assert_account_budget_spent(
        client.post("/api/tokens", headers=right, **from_address("10.2.0.1"))
    )
    assert not [record for record in caplog.records if record.exc_info]


def test_an_unknown_name_is_refused_like_an_account_so_the_refusal_tells_nothing(
    limited: Callable[..., FlaskClient], victim: ApiUser
) -> None:
    client = limited()
    for name in ("victim", "nobody"):
        for number in range(3):
            guess = basic_auth(name, "wrong-guess")
            answer = client.post("/api/tokens", headers=guess, **from_address(f"10.3.{number}.1"))
            assert answer.status_code == 401
        guess = basic_auth(name, "wrong-guess")
        assert_account_budget_spent(client.post("/api/tokens", headers=guess))


def test_an_unparseable_authorization_header_counts_against_the_address(
    limited: Callable[..., FlaskClient], victim: ApiUser, caplog: pytest.LogCaptureFixture
) -> None:
    client = limited()
    forger = from_address("203.0.113.9")
    for header in ("Basic !!!!", "Basic " + "\u00ff\u00fe", "Basic", "Digest x"):
        answer = client.post("/api/tokens", headers={"Authorization": header}, **forger)
        assert answer.status_code in (401, 429), header
    refused = client.post("/api/tokens", headers=basic_auth("victim", victim.password), **forger)
    assert_json_error(refused, 429, "address")
    assert "Retry-After" in refused.headers
    assert not [record for record in caplog.records if record.exc_info]


def test_the_web_form_spends_the_same_budget_and_refuses_with_a_flash_and_retry_after(
    limited: Callable[..., FlaskClient], victim: ApiUser
) -> None:
    client = limited()
    assert client.post("/api/tokens", headers=basic_auth("victim", "nope")).status_code == 401
    person = Browser(client)
    for number in range(2):
        client.environ_base["REMOTE_ADDR"] = f"10.4.0.{number}"
        page = person.login("victim@example.com", "wrong-guess")
        assert page.status_code == 200
    client.environ_base["REMOTE_ADDR"] = "10.4.1.1"
    refused = person.login("Victim", victim.password)
    assert refused.status_code == 429
    assert refused.mimetype == "text/html"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    [message] = flashes(refused)
    assert message.startswith("too many password attempts for this account")
    assert person.signed_in_as() is None


def test_a_password_change_and_an_account_deletion_spend_the_sign_in_budget(
    limited: Callable[..., FlaskClient], victim: ApiUser
) -> None:
    """A stolen token is no unlimited oracle of the password: its checks count with sign-ins."""
    client = limited()
    token = {"Authorization": f"Bearer {victim.token}"}
    change = {"old_password": "guess-one", "password": "a-new-password-1"}
    answer = client.put(f"/api/users/{victim.id}", json=change, headers=token)
    assert_json_error(answer, 400, "old_password")
    answer = client.delete("/api/me", json={"password": "guess-two"}, headers=token)
    assert_json_error(answer, 400, "password")
    assert client.post("/api/tokens", headers=basic_auth("victim", "guess-3")).status_code == 401

    for guess in (
        lambda: client.put(f"/api/users/{victim.id}", json=change, headers=token),
        lambda: client.delete("/api/me", json={"password": victim.password}, headers=token),
        lambda: client.post("/api/tokens", headers=basic_auth("victim", victim.password)),
    ):
        assert_account_budget_spent(guess())
    assert client.get("/api/me", headers=token).status_code == 200


def test_deleting_an_account_on_the_web_site_spends_the_budget(
    limited: Callable[..., FlaskClient], victim: ApiUser
) -> None:
    client = limited()
    person = Browser(client)
    assert person.login("victim", victim.password).status_code == 302
    for guess in ("guess-one", "guess-two"):
        page = person.submit("/delete_account", {"password": guess})
        assert page.status_code == 200
    refused = person.submit("/delete_account", {"password": victim.password})
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert any("too many password attempts" in message for message in flashes(refused))
    assert (
        client.get("/api/me", headers={"Authorization": f"Bearer {victim.token}"}).status_code
        == 200
    )


def test_the_profile_page_spends_the_budget_and_refuses_with_429(
    limited: Callable[..., FlaskClient], victim: ApiUser
) -> None:
    client = limited()
    person = Browser(client)
    assert person.login("victim", victim.password).status_code == 302
    change = {"username": "victim", "email": "thief@example.com", "about_me": ""}
    for guess in ("guess-one", "guess-two"):
        page = person.submit("/edit_profile", {**change, "current_password": guess})
        assert page.status_code == 200
    refused = person.submit("/edit_profile", {**change, "current_password": victim.password})
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert any("too many password attempts" in message for message in flashes(refused))
    me = client.get("/api/me", headers={"Authorization": f"Bearer {victim.token}"})
    assert me.json["email"] == victim.email


def test_two_servers_on_one_redis_share_the_budget(
    limited: Callable[..., FlaskClient], victim: ApiUser, redis_prefix: tuple[str, str]
) -> None:
    url, prefix = redis_prefix
    servers = [limited(REDIS_URL=url, RATELIMIT_KEY_PREFIX=prefix) for _ in range(2)]
    logins = ("victim", "victim@example.com", "Victim")
    for number, login in enumerate(logins):
        guess = basic_auth(login, "wrong-guess")
        answer = servers[number % 2].post(
            "/api/tokens", headers=guess, **from_address(f"10.5.0.{number}")
        )
        assert answer.status_code == 401
    right = basic_auth("victim", victim.password)
    assert_account_budget_spent(servers[1].post("/api/tokens", headers=right))
    with Redis.from_url(url) as redis:
        assert list(redis.scan_iter(match=f"*LIMITER/{prefix}/password-guesses/account:*"))


def test_with_redis_down_guesses_are_counted_in_memory_with_one_warning_and_no_traceback(
    limited: Callable[..., FlaskClient], victim: ApiUser, caplog: pytest.LogCaptureFixture
) -> None:
    client = limited(REDIS_URL=f"redis://127.0.0.1:{closed_port()}/0")
    with caplog.at_level(logging.WARNING, logger="microblog.api.counters"):
        for number in range(3):
            guess = basic_auth("victim", "wrong-guess")
            answer = client.post("/api/tokens", headers=guess, **from_address(f"10.6.0.{number}"))
            assert answer.status_code == 401
        right = basic_auth("victim", victim.password)
        assert_account_budget_spent(client.post("/api/tokens", headers=right))
    warnings = [r for r in caplog.records if r.name == "microblog.api.counters"]
    assert len(warnings) == 1 and "memory" in warnings[0].getMessage()
    assert not [record for record in caplog.records if record.exc_info]
