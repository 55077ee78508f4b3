"""POST /api/users: signing up, with no authentication."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient

from tests.api.api_helpers import (
    USER_FIELDS,
    ApiUser,
    assert_json_error,
    assert_no_secrets,
    basic_auth,
    token_for,
)

PASSWORD = "correct-horse"


def body(**changes: Any) -> dict[str, Any]:
    """A valid registration, with `changes` applied (a value of ... removes the field)."""
    data: dict[str, Any] = {
        "username": "susan",
        "email": "susan@example.com",
        "password": PASSWORD,
        "about_me": "I like trains",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not ...}


def test_registration_is_201_with_the_new_user_its_email_and_location(client: FlaskClient) -> None:
    response = client.post("/api/users", json=body())

    assert response.status_code == 201
    user = response.json
    assert set(user) == USER_FIELDS | {"email"}
    assert user["username"] == "susan"
    assert user["email"] == "susan@example.com"
    assert user["about_me"] == "I like trains"
    assert (user["post_count"], user["follower_count"], user["following_count"]) == (0, 0, 0)
    assert urlsplit(response.headers["Location"]).path == f"/api/users/{user['id']}"
    assert_no_secrets(response, PASSWORD)


def test_location_of_a_new_user_shows_that_user(client: FlaskClient) -> None:
    created = client.post("/api/users", json=body())
    headers = token_for(client, "susan", PASSWORD)

    shown = client.get(created.headers["Location"], headers=headers)

    assert shown.status_code == 200
    assert shown.json == created.json


def test_about_me_is_optional(client: FlaskClient) -> None:
    response = client.post("/api/users", json=body(about_me=...))

    assert response.status_code == 201
    assert response.json["about_me"] == ""


def test_a_new_user_can_get_a_token_with_their_password(client: FlaskClient) -> None:
    client.post("/api/users", json=body())

    assert client.post("/api/tokens", headers=basic_auth("susan", PASSWORD)).status_code == 200


@pytest.mark.parametrize("field", ["username", "email", "password"])
def test_missing_field_is_400_naming_it(client: FlaskClient, field: str) -> None:
    response = client.post("/api/users", json=body(**{field: ...}))

    assert_json_error(response, 400, field)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("username", 123),
        ("username", None),
        ("username", ["susan"]),
        ("email", 123),
        ("password", 12345678),
        ("password", True),
        ("about_me", 42),
        ("about_me", None),
    ],
)
def test_wrong_type_is_400_naming_the_field(client: FlaskClient, field: str, value: Any) -> None:
    response = client.post("/api/users", json=body(**{field: value}))

    assert_json_error(response, 400, field)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("username", ""),
        ("username", "susan smith"),
        ("username", "susan!"),
        ("username", "süsan"),
        ("username", "a" * 65),
        ("email", "not-an-email"),
        ("email", "susan@"),
        ("email", "@example.com"),
        ("password", "seven77"),
        ("password", ""),
        ("about_me", "x" * 141),
    ],
)
def test_invalid_value_is_400_naming_the_field(client: FlaskClient, field: str, value: str) -> None:
    response = client.post("/api/users", json=body(**{field: value}))

    assert_json_error(response, 400, field)


@pytest.mark.parametrize(
    "changes",
    [
        {"username": "a" * 64},
        {"username": "Susan_Smith-2.0"},
        {"password": "eight888"},
        {"about_me": "x" * 140},
    ],
)
def test_values_at_the_limits_are_accepted(client: FlaskClient, changes: dict[str, str]) -> None:
    sent = body(**changes)

    response = client.post("/api/users", json=sent)

    assert response.status_code == 201, response.json
    assert response.json["username"] == sent["username"]
    assert response.json["about_me"] == sent["about_me"]
    login = client.post("/api/tokens", headers=basic_auth(sent["username"], sent["password"]))
    assert login.status_code == 200


def test_rejected_registration_creates_nobody(client: FlaskClient) -> None:
    client.post("/api/users", json=body(about_me="x" * 141))

    response = client.post("/api/tokens", headers=basic_auth("susan", PASSWORD))

    assert response.status_code == 401


@pytest.mark.parametrize("username", ["susan", "Susan", "SUSAN"])
def test_taken_username_in_any_letter_case_is_400(
    client: FlaskClient, make_user: Callable[..., ApiUser], username: str
) -> None:
    make_user("susan")

    response = client.post("/api/users", json=body(username=username, email="another@example.com"))

    assert assert_json_error(response, 400) == "please use a different username"


@pytest.mark.parametrize("email", ["susan@example.com", "SUSAN@example.com", "Susan@Example.COM"])
def test_taken_email_in_any_letter_case_is_400(
    client: FlaskClient, make_user: Callable[..., ApiUser], email: str
) -> None:
    make_user("susan")

    response = client.post("/api/users", json=body(username="bob", email=email))

    assert assert_json_error(response, 400) == "please use a different email address"
    assert client.post("/api/tokens", headers=basic_auth("bob", PASSWORD)).status_code == 401


def test_unknown_fields_are_ignored(client: FlaskClient) -> None:
    response = client.post(
        "/api/users",
        json=body(
            id=999,
            post_count=42,
            follower_count=7,
            password_hash="$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
            is_admin=True,
        ),
    )

    assert response.status_code == 201
    user = response.json
    assert user["id"] != 999
    assert (user["post_count"], user["follower_count"]) == (0, 0)
    assert set(user) == USER_FIELDS | {"email"}
    # The given password, not the smuggled hash, is what logs in.
    assert client.post("/api/tokens", headers=basic_auth("susan", PASSWORD)).status_code == 200
