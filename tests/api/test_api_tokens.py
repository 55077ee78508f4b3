"""/api/tokens: getting (HTTP Basic), listing and revoking tokens and web sessions (Bearer)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from microblog.accounts.models import Token
from microblog.extensions import db
from tests.api.api_helpers import (
    ApiUser,
    assert_close_to_now,
    assert_json_error,
    basic_auth,
    make_app,
    parse_timestamp,
)
from tests.web.web_support import Browser


@pytest.fixture
def susan(make_user: Callable[..., ApiUser]) -> ApiUser:
    return make_user("susan", "correct-horse", email="Susan@Example.com")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("login", ["susan", "susan@example.com", "SUSAN@EXAMPLE.COM"])
def test_username_or_email_with_password_gets_a_token(
    client: FlaskClient, susan: ApiUser, login: str
) -> None:
    response = client.post("/api/tokens", headers=basic_auth(login, "correct-horse"))

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert set(response.json) == {"token", "expires_at"}
    assert client.get("/api/me", headers=bearer(response.json["token"])).status_code == 200


def test_token_is_long_hex_and_expires_in_an_hour(client: FlaskClient, susan: ApiUser) -> None:
    response = client.post("/api/tokens", headers=basic_auth("susan", "correct-horse"))

    assert re.fullmatch(r"[0-9a-f]{32,}", response.json["token"])
    expires_at = parse_timestamp(response.json["expires_at"])
    assert_close_to_now(expires_at - timedelta(hours=1))


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(basic_auth("susan", "wrong-horse"), id="wrong-password"),
        pytest.param(basic_auth("nobody", "correct-horse"), id="unknown-user"),
        pytest.param(basic_auth("susan", ""), id="empty-password"),
        pytest.param({}, id="no-credentials"),
        pytest.param({"Authorization": "Basic !!not-base64!!"}, id="garbled-credentials"),
    ],
)
def test_bad_credentials_are_401_with_www_authenticate(
    client: FlaskClient, susan: ApiUser, headers: dict[str, str]
) -> None:
    response = client.post("/api/tokens", headers=headers)

    assert_json_error(response, 401)
    assert "WWW-Authenticate" in response.headers


def test_token_endpoint_challenges_for_basic_credentials(client: FlaskClient) -> None:
    # RFC 9110 11.6.1: the challenge names the scheme this resource accepts. Here it is Basic;
    # a Bearer challenge tells a client to present the token it is trying to obtain.
    response = client.post("/api/tokens")

    assert response.headers["WWW-Authenticate"].startswith("Basic ")


def test_unknown_user_and_wrong_password_get_the_same_message(
    client: FlaskClient, susan: ApiUser
) -> None:
    unknown = client.post("/api/tokens", headers=basic_auth("nobody", "correct-horse"))
    wrong = client.post("/api/tokens", headers=basic_auth("susan", "wrong-horse"))

    assert assert_json_error(unknown, 401) == assert_json_error(wrong, 401)


def test_one_user_may_hold_several_working_tokens(client: FlaskClient, susan: ApiUser) -> None:
    second = client.post("/api/tokens", headers=basic_auth("susan", "correct-horse")).json["token"]

    assert second != susan.token
    assert client.get("/api/me", headers=susan.headers).status_code == 200
    assert client.get("/api/me", headers=bearer(second)).status_code == 200


def test_revoking_is_204_and_the_token_stops_working_at_once(
    client: FlaskClient, susan: ApiUser
) -> None:
    response = client.delete("/api/tokens", headers=susan.headers)

    assert response.status_code == 204
    assert response.mimetype == "application/json"
    assert response.data == b""
    after = client.get("/api/me", headers=susan.headers)
    assert_json_error(after, 401, "revoked")
    assert after.headers["WWW-Authenticate"].startswith("Bearer")


def test_revoking_one_token_leaves_the_others_working(client: FlaskClient, susan: ApiUser) -> None:
    other = client.post("/api/tokens", headers=basic_auth("susan", "correct-horse")).json["token"]

    client.delete("/api/tokens", headers=susan.headers)

    assert client.get("/api/me", headers=bearer(other)).status_code == 200
    assert client.get("/api/me", headers=susan.headers).status_code == 401


def test_a_revoked_token_cannot_revoke_again(client: FlaskClient, susan: ApiUser) -> None:
    client.delete("/api/tokens", headers=susan.headers)

    assert_json_error(client.delete("/api/tokens", headers=susan.headers), 401, "revoked")


def test_revoking_needs_a_bearer_token(client: FlaskClient, susan: ApiUser) -> None:
    response = client.delete("/api/tokens", headers=basic_auth("susan", "correct-horse"))

    assert_json_error(response, 401)
    assert client.get("/api/me", headers=susan.headers).status_code == 200


def test_expired_token_is_401_saying_expired(
    app: Flask, client: FlaskClient, susan: ApiUser
) -> None:
    with app.app_context():
        db.session.execute(
            sa.update(Token)
            .where(Token.user_id == susan.id)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        db.session.commit()

    response = client.get("/api/me", headers=susan.headers)

    assert_json_error(response, 401, "expired")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.fixture
def short_lived_client(app: Flask, database_url: str) -> Iterator[FlaskClient]:
    """A client of an app on the same (emptied) database whose tokens live one microsecond."""
    short = make_app(database_url, TOKEN_LIFETIME=timedelta(microseconds=1))
    yield short.test_client()
    with short.app_context():
        db.session.remove()
        db.engine.dispose()


def test_token_older_than_the_configured_lifetime_is_expired(
    short_lived_client: FlaskClient,
) -> None:
    client = short_lived_client
    client.post(
        "/api/users",
        json={"username": "susan", "email": "susan@example.com", "password": "correct-horse"},
    )
    token = client.post("/api/tokens", headers=basic_auth("susan", "correct-horse")).json["token"]

    assert_json_error(client.get("/api/me", headers=bearer(token)), 401, "expired")


@pytest.mark.parametrize(
    "token",
    ["garbage", "0" * 64, "deadbeef" * 8 + "00"],
)
def test_garbage_token_is_401(client: FlaskClient, susan: ApiUser, token: str) -> None:
    response = client.get("/api/me", headers=bearer(token))

    assert_json_error(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


# ---------------------------------------------------------------------------------------------
# Seeing and ending one's tokens and web sessions: GET /api/tokens, DELETE /api/tokens/<id>.


def new_token(client: FlaskClient, user: ApiUser, agent: str = "test-client/1") -> str:
    headers = {**basic_auth(user.username, user.password), "User-Agent": agent}
    response = client.post("/api/tokens", headers=headers)
    assert response.status_code == 200, response.json
    token: str = response.json["token"]
    return token


def test_the_token_list_shows_your_live_tokens_and_sessions_the_current_one_marked(
    app: Flask, client: FlaskClient, susan: ApiUser, make_user: Callable[..., ApiUser]
) -> None:
    phone = new_token(client, susan, "Phone app/2.0")
    revoked = new_token(client, susan)
    assert client.delete("/api/tokens", headers=bearer(revoked)).status_code == 204
    make_user("bob")  # his token is not hers to see
    firefox = Browser(app.test_client(), headers={"User-Agent": "Firefox/140"})
    assert firefox.login("susan", "correct-horse").status_code == 302

    response = client.get("/api/tokens", headers=bearer(phone))

    assert response.status_code == 200
    items = response.json["items"]
    # The most recently used first: the session, then the tokens, newest first.
    assert [(item["kind"], item["label"], item["current"]) for item in items] == [
        ("web", "Firefox/140", False),
        ("api", "Phone app/2.0", True),
        ("api", items[2]["label"], False),
    ]
    assert items[2]["label"].startswith("Werkzeug/")  # the test client that registered her
    for item in items:
        assert set(item) == {
            "id",
            "kind",
            "label",
            "created_at",
            "last_used_at",
            "expires_at",
            "current",
        }
        assert_close_to_now(parse_timestamp(item["last_used_at"]))
    body = response.get_data(as_text=True)
    assert phone not in body and susan.token not in body
    assert "hash" not in body


def test_ending_a_token_by_id_stops_it_at_once_and_leaves_the_others(
    client: FlaskClient, susan: ApiUser
) -> None:
    other = new_token(client, susan)
    items = client.get("/api/tokens", headers=susan.headers).json["items"]
    [other_id] = [item["id"] for item in items if not item["current"]]

    response = client.delete(f"/api/tokens/{other_id}", headers=susan.headers)

    assert response.status_code == 204
    assert_json_error(client.get("/api/me", headers=bearer(other)), 401, "revoked")
    assert client.get("/api/me", headers=susan.headers).status_code == 200
    assert [
        item["current"] for item in client.get("/api/tokens", headers=susan.headers).json["items"]
    ] == [True]
    again = client.delete(f"/api/tokens/{other_id}", headers=susan.headers)
    assert_json_error(again, 404, str(other_id))


def test_someone_elses_token_cannot_be_ended_and_is_not_told_apart_from_none(
    client: FlaskClient, susan: ApiUser, make_user: Callable[..., ApiUser]
) -> None:
    bob = make_user("bob")
    bobs = client.get("/api/tokens", headers=bob.headers).json["items"][0]["id"]

    theirs = client.delete(f"/api/tokens/{bobs}", headers=susan.headers)
    nobodys = client.delete("/api/tokens/999999", headers=susan.headers)

    assert_json_error(theirs, 404)
    assert theirs.json["message"].replace(str(bobs), "N") == nobodys.json["message"].replace(
        "999999", "N"
    )
    assert client.get("/api/me", headers=bob.headers).status_code == 200


def test_a_web_session_key_is_no_bearer_token(
    app: Flask, client: FlaskClient, susan: ApiUser
) -> None:
    browser = Browser(app.test_client())
    assert browser.login("susan", "correct-horse").status_code == 302
    with browser.client.session_transaction() as session:
        key = session["_user_id"]

    assert_json_error(client.get("/api/me", headers=bearer(key)), 401, "not valid")


def _age_tokens(app: Flask, user_id: int, by: timedelta) -> None:
    with app.app_context():
        db.session.execute(
            sa.update(Token)
            .where(Token.user_id == user_id)
            .values(last_used_at=datetime.now(UTC) - by)
        )
        db.session.commit()


def test_a_tokens_last_use_is_written_at_most_once_a_minute(
    app: Flask, client: FlaskClient, susan: ApiUser, count_queries: Callable[[], Any]
) -> None:
    _age_tokens(app, susan.id, timedelta(hours=2))

    client.get("/api/me", headers=susan.headers)
    [listed] = client.get("/api/tokens", headers=susan.headers).json["items"]
    with count_queries() as counted:
        client.get("/api/me", headers=susan.headers)

    assert_close_to_now(parse_timestamp(listed["last_used_at"]), timedelta(seconds=10))
    updates = [s for s in counted.statements if s.lstrip().upper().startswith("UPDATE")]
    assert updates == [], counted.statements


def test_expired_tokens_are_deleted_when_the_person_gets_a_new_one(
    app: Flask, client: FlaskClient, susan: ApiUser
) -> None:
    with app.app_context():
        db.session.execute(
            sa.update(Token)
            .where(Token.user_id == susan.id)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        db.session.commit()

    client.post("/api/tokens", headers=basic_auth("susan", "correct-horse"))

    with app.app_context():
        rows = db.session.scalar(sa.select(sa.func.count()).select_from(Token))
    assert rows == 1


def test_ending_a_web_session_through_the_api_signs_that_browser_out(
    app: Flask, client: FlaskClient, susan: ApiUser
) -> None:
    browser = Browser(app.test_client())
    browser.login("susan", "correct-horse", remember=True)
    items = client.get("/api/tokens", headers=susan.headers).json["items"]
    [web] = [item["id"] for item in items if item["kind"] == "web"]

    assert client.delete(f"/api/tokens/{web}", headers=susan.headers).status_code == 204

    assert browser.signed_in_as() is None
    browser.client.delete_cookie("session")
    assert browser.signed_in_as() is None
