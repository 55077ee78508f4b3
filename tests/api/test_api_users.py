"""Reading users and editing one's own account: GET/PUT /api/users/<id>, GET /api/me."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.api.api_helpers import (
    BAD_CREDENTIALS,
    USER_FIELDS,
    USER_LINKS,
    ApiUser,
    assert_close_to_now,
    assert_json_error,
    assert_no_secrets,
    basic_auth,
    parse_timestamp,
)
from tests.support import wait_for_jobs
from tests.tasks.task_support import Inbox, smtp_settings
from tests.web.web_support import Browser

# ---------------------------------------------------------------------------------------------
# Every route but registration and token creation needs a bearer token.

PROTECTED = [
    ("GET", "/api/users"),
    ("GET", "/api/users/1"),
    ("GET", "/api/users/1/followers"),
    ("GET", "/api/users/1/following"),
    ("PUT", "/api/users/1"),
    ("GET", "/api/me"),
    ("GET", "/api/me/following/1"),
    ("POST", "/api/me/following/1"),
    ("DELETE", "/api/me/following/1"),
    ("DELETE", "/api/tokens"),
]


@pytest.mark.parametrize("credentials", BAD_CREDENTIALS)
@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_protected_routes_are_401_without_a_valid_bearer_token(
    client: FlaskClient,
    make_user: Callable[..., ApiUser],
    method: str,
    path: str,
    credentials: dict[str, str],
) -> None:
    make_user("susan")

    response = client.open(path, method=method, headers=credentials, json={"about_me": "hacked"})

    assert_json_error(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


# ---------------------------------------------------------------------------------------------
# The user representation.


@pytest.fixture
def susan(make_user: Callable[..., ApiUser]) -> ApiUser:
    return make_user("susan", about_me="I like trains")


@pytest.fixture
def bob(make_user: Callable[..., ApiUser]) -> ApiUser:
    return make_user("bob", email="Bob.Builder@Example.COM")


def test_a_user_has_exactly_the_public_fields(
    client: FlaskClient, susan: ApiUser, bob: ApiUser
) -> None:
    response = client.get(f"/api/users/{susan.id}", headers=bob.headers)

    assert response.status_code == 200
    user = response.json
    assert set(user) == USER_FIELDS
    assert set(user["_links"]) == USER_LINKS
    assert user["id"] == susan.id
    assert user["username"] == "susan"
    assert user["about_me"] == "I like trains"
    assert (user["post_count"], user["follower_count"], user["following_count"]) == (0, 0, 0)


def test_last_seen_is_iso_8601_with_utc_offset(
    client: FlaskClient, susan: ApiUser, bob: ApiUser
) -> None:
    last_seen = client.get(f"/api/users/{susan.id}", headers=bob.headers).json["last_seen"]

    assert last_seen.endswith("+00:00")
    assert_close_to_now(parse_timestamp(last_seen))


def test_links_lead_to_the_user_and_their_follow_lists(
    client: FlaskClient, susan: ApiUser, bob: ApiUser
) -> None:
    user = client.get(f"/api/users/{susan.id}", headers=bob.headers).json
    links = user["_links"]

    assert urlsplit(links["self"]).path == f"/api/users/{susan.id}"
    assert client.get(links["self"], headers=bob.headers).json == user
    assert urlsplit(links["followers"]).path == f"/api/users/{susan.id}/followers"
    assert client.get(links["followers"], headers=bob.headers).status_code == 200
    assert urlsplit(links["following"]).path == f"/api/users/{susan.id}/following"
    assert client.get(links["following"], headers=bob.headers).status_code == 200


def test_avatar_is_drawn_here_from_the_user_id(
    client: FlaskClient, susan: ApiUser, bob: ApiUser
) -> None:
    avatar = client.get(f"/api/users/{bob.id}", headers=susan.headers).json["_links"]["avatar"]

    assert avatar == f"/avatars/{bob.id}.svg"
    assert client.get(avatar).mimetype == "image/svg+xml"


def test_unknown_user_is_404(client: FlaskClient, susan: ApiUser) -> None:
    assert_json_error(client.get("/api/users/999", headers=susan.headers), 404)


# ---------------------------------------------------------------------------------------------
# Who sees the email address, and that nothing secret is ever shown.


def test_own_profile_shows_the_email(client: FlaskClient, susan: ApiUser) -> None:
    response = client.get(f"/api/users/{susan.id}", headers=susan.headers)

    assert set(response.json) == USER_FIELDS | {"email"}
    assert response.json["email"] == "susan@example.com"


def test_me_is_your_own_profile_with_email(client: FlaskClient, susan: ApiUser) -> None:
    me = client.get("/api/me", headers=susan.headers)

    assert me.status_code == 200
    profile = client.get(f"/api/users/{susan.id}", headers=susan.headers).json
    # /api/me is the profile plus what only you need: your unread message count.
    assert me.json == {**profile, "unread_message_count": 0}
    assert me.json["email"] == "susan@example.com"


def test_another_users_profile_hides_their_email(
    client: FlaskClient, susan: ApiUser, bob: ApiUser
) -> None:
    response = client.get(f"/api/users/{bob.id}", headers=susan.headers)

    assert "email" not in response.json
    assert "bob.builder" not in response.get_data(as_text=True)


def test_user_lists_hide_every_email_even_your_own(
    client: FlaskClient, susan: ApiUser, bob: ApiUser
) -> None:
    client.post(f"/api/me/following/{susan.id}", headers=bob.headers)

    for path in (
        "/api/users",
        f"/api/users/{susan.id}/followers",
        f"/api/users/{bob.id}/following",
    ):
        items = client.get(path, headers=bob.headers).json["items"]
        assert items, path
        for item in items:
            assert set(item) == USER_FIELDS, path


@pytest.mark.parametrize(
    "path",
    [
        "/api/me",
        "/api/users",
        "/api/users/{susan}",
        "/api/users/{bob}",
        "/api/users/{susan}/followers",
        "/api/users/{bob}/following",
    ],
)
def test_no_password_hash_or_token_is_ever_shown(
    client: FlaskClient, susan: ApiUser, bob: ApiUser, path: str
) -> None:
    client.post(f"/api/me/following/{susan.id}", headers=bob.headers)

    response = client.get(path.format(susan=susan.id, bob=bob.id), headers=susan.headers)

    assert response.status_code == 200
    assert_no_secrets(response, susan.password)
    assert_no_secrets(response, bob.password)
    assert susan.token not in response.get_data(as_text=True)


def test_users_are_listed_by_id(client: FlaskClient, make_user: Callable[..., ApiUser]) -> None:
    users = [make_user(name) for name in ("zoe", "Adam", "mia")]

    listed = client.get("/api/users", headers=users[0].headers).json["items"]

    assert [user["id"] for user in listed] == sorted(user.id for user in users)
    assert [user["username"] for user in listed] == ["zoe", "Adam", "mia"]


# ---------------------------------------------------------------------------------------------
# PUT /api/users/<id>: editing yourself.


def put(client: FlaskClient, user: ApiUser, body: Any, user_id: int | None = None) -> Any:
    return client.put(f"/api/users/{user_id or user.id}", json=body, headers=user.headers)


def can_log_in(client: FlaskClient, login: str, password: str) -> bool:
    return client.post("/api/tokens", headers=basic_auth(login, password)).status_code == 200


def test_editing_another_user_is_403_and_changes_nothing(
    client: FlaskClient, susan: ApiUser, bob: ApiUser
) -> None:
    before = client.get(f"/api/users/{bob.id}", headers=bob.headers).json

    response = put(client, susan, {"about_me": "pwned", "username": "pwned"}, user_id=bob.id)

    assert_json_error(response, 403)
    assert client.get(f"/api/users/{bob.id}", headers=bob.headers).json == before


def test_editing_an_unknown_user_is_404(client: FlaskClient, susan: ApiUser) -> None:
    assert_json_error(put(client, susan, {"about_me": "hi"}, user_id=999), 404)


def test_username_email_and_about_me_can_be_changed(client: FlaskClient, susan: ApiUser) -> None:
    response = put(
        client,
        susan,
        {
            "username": "Susannah",
            "email": "susannah@example.org",
            "about_me": "I like planes",
            "old_password": susan.password,
        },
    )

    assert response.status_code == 200
    assert set(response.json) == USER_FIELDS | {"email"}
    assert response.json["username"] == "Susannah"
    assert response.json["email"] == "susannah@example.org"
    assert response.json["about_me"] == "I like planes"
    me = client.get("/api/me", headers=susan.headers).json
    assert me == {**response.json, "unread_message_count": 0}
    assert_no_secrets(response, susan.password)
    assert can_log_in(client, "Susannah", susan.password)
    assert can_log_in(client, "susannah@example.org", susan.password)
    assert not can_log_in(client, "susan", susan.password)


def test_a_single_field_can_be_changed_alone(client: FlaskClient, susan: ApiUser) -> None:
    response = put(client, susan, {"about_me": "Just this"})

    assert response.status_code == 200
    assert response.json["about_me"] == "Just this"
    assert (response.json["username"], response.json["email"]) == ("susan", "susan@example.com")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"username": "bob"}, "please use a different username"),
        ({"username": "BOB"}, "please use a different username"),
        ({"email": "bob.builder@example.com"}, "please use a different email address"),
        ({"email": "BOB.BUILDER@EXAMPLE.COM"}, "please use a different email address"),
    ],
)
def test_taking_another_users_name_or_email_is_400_and_changes_nothing(
    client: FlaskClient, susan: ApiUser, bob: ApiUser, body: dict[str, str], message: str
) -> None:
    before = client.get("/api/me", headers=susan.headers).json

    confirmed = {"old_password": susan.password} if "email" in body else {}
    response = put(client, susan, {**body, "about_me": "changed", **confirmed})

    assert assert_json_error(response, 400) == message
    assert client.get("/api/me", headers=susan.headers).json == before


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("username", "susan smith"),
        ("username", "a" * 65),
        ("username", 123),
        ("email", "not-an-email"),
        ("about_me", "x" * 141),
        ("about_me", 42),
    ],
)
def test_invalid_value_is_400_naming_the_field_and_changes_nothing(
    client: FlaskClient, susan: ApiUser, field: str, value: Any
) -> None:
    before = client.get("/api/me", headers=susan.headers).json

    response = put(client, susan, {field: value})

    assert_json_error(response, 400, field)
    assert client.get("/api/me", headers=susan.headers).json == before


def test_password_changes_with_the_correct_old_password(
    client: FlaskClient, susan: ApiUser
) -> None:
    response = put(client, susan, {"password": "new-horse-42", "old_password": susan.password})

    assert response.status_code == 200
    assert_no_secrets(response, "new-horse-42")
    assert can_log_in(client, "susan", "new-horse-42")
    assert not can_log_in(client, "susan", susan.password)


@pytest.mark.parametrize(
    ("password_fields", "field"),
    [
        pytest.param(
            {"password": "new-horse-42", "old_password": "wrong-horse"},
            "old_password",
            id="wrong-old-password",
        ),
        pytest.param({"password": "new-horse-42"}, "old_password", id="missing-old-password"),
        pytest.param(
            {"password": "new-horse-42", "old_password": None},
            "old_password",
            id="null-old-password",
        ),
        pytest.param(
            # The address as it is: no email change for old_password to confirm.
            {"old_password": "correct-horse", "email": "susan@example.com"},
            "password",
            id="missing-new-password",
        ),
        pytest.param(
            {"password": "short", "old_password": "correct-horse"}, "password", id="too-short"
        ),
    ],
)
def test_refused_password_change_is_400_and_changes_nothing(
    client: FlaskClient, susan: ApiUser, password_fields: dict[str, Any], field: str
) -> None:
    before = client.get("/api/me", headers=susan.headers).json

    response = put(
        client,
        susan,
        {"username": "renamed", "email": "renamed@example.com", "about_me": "changed"}
        | password_fields,
    )

    assert_json_error(response, 400, field)
    assert client.get("/api/me", headers=susan.headers).json == before
    assert can_log_in(client, "susan", susan.password)
    assert not can_log_in(client, "susan", "new-horse-42")
    assert not can_log_in(client, "renamed", susan.password)


def test_id_and_unknown_fields_are_ignored(
    client: FlaskClient, susan: ApiUser, bob: ApiUser
) -> None:
    response = put(
        client,
        susan,
        {
            "id": bob.id,
            "post_count": 42,
            "follower_count": 7,
            "password_hash": "$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
            "is_admin": True,
            "about_me": "Still me",
        },
    )

    assert response.status_code == 200
    assert response.json["id"] == susan.id
    assert response.json["about_me"] == "Still me"
    assert (response.json["post_count"], response.json["follower_count"]) == (0, 0)
    assert client.get(f"/api/users/{bob.id}", headers=bob.headers).json["about_me"] == ""
    assert can_log_in(client, "susan", susan.password)


# ---------------------------------------------------------------------------------------------
# A stolen token must not become the account: the email address needs the password, a new
# password ends every other token.


def test_changing_the_email_needs_the_current_password(client: FlaskClient, susan: ApiUser) -> None:
    before = client.get("/api/me", headers=susan.headers).json

    missing = put(client, susan, {"email": "mallory@example.com"})
    wrong = put(client, susan, {"email": "mallory@example.com", "old_password": "wrong-horse"})

    assert "required" in assert_json_error(missing, 400, "old_password")
    assert "not the current password" in assert_json_error(wrong, 400, "old_password")
    assert client.get("/api/me", headers=susan.headers).json == before
    assert not can_log_in(client, "mallory@example.com", susan.password)


def test_without_the_password_an_email_change_does_not_say_the_address_is_taken(
    client: FlaskClient, susan: ApiUser, bob: ApiUser
) -> None:
    taken = put(client, susan, {"email": bob.email})
    free = put(client, susan, {"email": "nobody@example.com"})

    assert assert_json_error(taken, 400, "old_password") == assert_json_error(
        free, 400, "old_password"
    )


def test_an_email_change_is_announced_to_the_old_address(
    make_other_app: Callable[..., Flask], smtp_server: tuple[str, int, Inbox]
) -> None:
    host, port, inbox = smtp_server
    app = make_other_app(
        **smtp_settings(port, host),
        MAIL_DEFAULT_SENDER="no-reply@microblog.test",
    )
    client = app.test_client()
    client.post(
        "/api/users",
        json={"username": "susan", "email": "susan@example.com", "password": "correct-horse"},
    )
    token = client.post("/api/tokens", headers=basic_auth("susan", "correct-horse")).json["token"]

    changed = client.put(
        "/api/users/1",
        json={"email": "susan@new.example.org", "old_password": "correct-horse"},
        headers={"Authorization": f"Bearer {token}", "Accept-Language": "es"},
    )

    assert changed.status_code == 200, changed.json
    [message] = inbox.wait_for(1)
    assert inbox.recipients == [["susan@example.com"]]
    assert message["Subject"] == "[Microblog] Tu dirección de correo ha cambiado"
    body = message.get_body(("plain",))
    assert body is not None
    assert "susan@new.example.org" in body.get_content()


def test_a_refused_email_change_mails_no_one(
    app: Flask, client: FlaskClient, susan: ApiUser, bob: ApiUser
) -> None:
    outbox = Path(app.instance_path) / "mail"
    refused = put(client, susan, {"email": bob.email, "old_password": susan.password})

    assert_json_error(refused, 400, "email")
    wait_for_jobs(app)
    assert not outbox.exists() or not list(outbox.iterdir())


def test_a_password_change_ends_every_other_token(
    app: Flask, client: FlaskClient, susan: ApiUser
) -> None:
    other = client.post("/api/tokens", headers=basic_auth("susan", susan.password)).json["token"]
    laptop = Browser(app.test_client())
    laptop.login("susan", susan.password, remember=True)

    response = put(client, susan, {"password": "new-horse-42", "old_password": susan.password})

    assert response.status_code == 200, response.json
    assert client.get("/api/me", headers=susan.headers).status_code == 200  # this one stays
    assert_json_error(
        client.get("/api/me", headers={"Authorization": f"Bearer {other}"}), 401, "revoked"
    )
    assert laptop.signed_in_as() is None
    laptop.client.delete_cookie("session")  # the remember-me cookie alone opens nothing either
    assert laptop.signed_in_as() is None
