"""Application-wide errors: JSON or HTML by Accept, 405, bad bodies, and never a 500."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.api.api_helpers import ApiUser, assert_json_error, basic_auth

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
HTTPIE = "application/json, */*;q=0.5"


# ---------------------------------------------------------------------------------------------
# Unknown URLs: JSON or HTML as the client prefers, but always JSON under /api.


@pytest.mark.parametrize("accept", ["text/html", BROWSER])
def test_unknown_url_outside_the_api_is_a_page_for_browsers(
    client: FlaskClient, accept: str
) -> None:
    response = client.get("/no/such/page", headers={"Accept": accept})

    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "404" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "accept",
    [
        pytest.param("application/json", id="json"),
        pytest.param("*/*", id="curl"),
        pytest.param(None, id="no-accept"),
        pytest.param(HTTPIE, id="httpie"),
    ],
)
def test_unknown_url_outside_the_api_is_json_for_api_clients(
    client: FlaskClient, accept: str | None
) -> None:
    headers = {"Accept": accept} if accept else {}

    assert_json_error(client.get("/no/such/page", headers=headers), 404)


@pytest.mark.parametrize("accept", ["text/html", BROWSER, "application/json", "*/*", None])
@pytest.mark.parametrize("path", ["/api/no/such/thing", "/api", "/api/users/not-a-number"])
def test_unknown_url_under_the_api_is_always_json(
    client: FlaskClient, path: str, accept: str | None
) -> None:
    headers = {"Accept": accept} if accept else {}

    assert_json_error(client.get(path, headers=headers), 404)


def test_api_errors_are_json_even_for_browsers(client: FlaskClient, susan: ApiUser) -> None:
    headers = {**susan.headers, "Accept": "text/html"}

    assert_json_error(client.get("/api/users/999", headers=headers), 404)
    assert_json_error(client.get("/api/me", headers={"Accept": "text/html"}), 401)


# ---------------------------------------------------------------------------------------------
# 405 Method Not Allowed.


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("POST", "/api/users/1", {"GET", "PUT"}),
        ("DELETE", "/api/users", {"GET", "POST"}),
        ("PATCH", "/api/me", {"GET"}),
        ("PUT", "/api/tokens", {"GET", "POST", "DELETE"}),
    ],
)
@pytest.mark.parametrize("accept", ["application/json", "text/html"])
def test_wrong_method_is_405_json_listing_allow(
    client: FlaskClient, method: str, path: str, allowed: set[str], accept: str
) -> None:
    response = client.open(path, method=method, headers={"Accept": accept})

    assert_json_error(response, 405)
    listed = {name.strip() for name in response.headers["Allow"].split(",")}
    assert allowed <= listed
    assert method not in listed


# ---------------------------------------------------------------------------------------------
# Request bodies that are not a JSON object, on both routes that read one.


def send_body(client: FlaskClient, route: str, user: ApiUser, **request: Any) -> TestResponse:
    if route == "register":
        return client.post("/api/users", **request)
    return client.put(f"/api/users/{user.id}", headers=user.headers, **request)


ROUTES = ["register", "edit"]


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b'{"username": "susan",', id="truncated"),
        pytest.param(b"{'username': 'susan'}", id="single-quotes"),
        pytest.param(b"", id="empty"),
        pytest.param(b'{"username": "\xff"}', id="invalid-utf8"),
        pytest.param(b"[" * 5000 + b"]" * 5000, id="too-deep"),
    ],
)
def test_malformed_json_is_400(
    client: FlaskClient, susan: ApiUser, route: str, data: bytes
) -> None:
    response = send_body(client, route, susan, data=data, content_type="application/json")

    assert_json_error(response, 400, "json")


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
    "data", [b'["susan", "susan@example.com"]', b'"susan"', b"42", b"null", b"true"]
)
def test_json_that_is_not_an_object_is_400(
    client: FlaskClient, susan: ApiUser, route: str, data: bytes
) -> None:
    response = send_body(client, route, susan, data=data, content_type="application/json")

    assert_json_error(response, 400, "object")


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
    "request_kwargs",
    [
        pytest.param(
            {"data": '{"about_me": "hi"}', "content_type": "text/plain"}, id="json-as-text"
        ),
        pytest.param({"data": {"about_me": "hi"}}, id="form"),
        pytest.param({"data": b'{"about_me": "hi"}'}, id="no-content-type"),
    ],
)
def test_body_that_is_not_json_is_415(
    client: FlaskClient, susan: ApiUser, route: str, request_kwargs: dict[str, Any]
) -> None:
    assert_json_error(send_body(client, route, susan, **request_kwargs), 415, "json")


@pytest.mark.parametrize("route", ROUTES)
def test_body_over_one_mebibyte_is_413(client: FlaskClient, susan: ApiUser, route: str) -> None:
    data = b'{"about_me": "' + b"x" * (1024 * 1024) + b'"}'

    response = send_body(client, route, susan, data=data, content_type="application/json")

    assert_json_error(response, 413)


@pytest.mark.parametrize(
    ("route", "fields", "status"),
    [
        ("register", b'"username": "bob", "email": "b@example.com", "password": "12345678"', 201),
        (
            "edit",
            b'"username": "bob", "email": "b@example.com", "old_password": "correct-horse"',
            200,
        ),
    ],
)
def test_body_just_under_one_mebibyte_is_read(
    client: FlaskClient, susan: ApiUser, route: str, fields: bytes, status: int
) -> None:
    data = b"{" + fields + b" " * (1024 * 1024 - len(fields) - 10) + b"}"

    response = send_body(client, route, susan, data=data, content_type="application/json")

    assert response.status_code == status, response.json
    assert response.json["username"] == "bob"


# ---------------------------------------------------------------------------------------------
# Every response under /api is JSON, bodiless ones included.


def test_every_api_response_is_json(client: FlaskClient, make_user: Callable[..., ApiUser]) -> None:
    susan, bob = make_user("susan"), make_user("bob")
    responses = {
        "201 register": client.post(
            "/api/users", json={"username": "c", "email": "c@example.com", "password": "12345678"}
        ),
        "200 token": client.post("/api/tokens", headers=basic_auth("susan", susan.password)),
        "204 follow": client.post(f"/api/me/following/{bob.id}", headers=susan.headers),
        "204 is following": client.get(f"/api/me/following/{bob.id}", headers=susan.headers),
        "204 unfollow": client.delete(f"/api/me/following/{bob.id}", headers=susan.headers),
        "200 list": client.get("/api/users", headers=susan.headers),
        "200 options": client.options("/api/users"),
        "200 head": client.head("/api/me", headers=susan.headers),
        "400": client.post(f"/api/me/following/{susan.id}", headers=susan.headers),
        "401": client.get("/api/me"),
        "403": client.put(f"/api/users/{bob.id}", json={}, headers=susan.headers),
        "404": client.get("/api/nothing"),
        "405": client.patch("/api/me"),
        "409": client.delete(f"/api/me/following/{bob.id}", headers=susan.headers),
        "415": client.post("/api/users", data="x", content_type="text/plain"),
        "204 revoke": client.delete("/api/tokens", headers=bob.headers),
    }

    for name, response in responses.items():
        assert str(response.status_code) == name.split()[0], (name, response.status_code)
        assert response.mimetype == "application/json", name


# ---------------------------------------------------------------------------------------------
# No client mistake is a server error.

ID_ROUTES = [
    ("GET", "/api/users/{id}"),
    ("GET", "/api/users/{id}/followers"),
    ("GET", "/api/users/{id}/following"),
    ("PUT", "/api/users/{id}"),
    ("GET", "/api/me/following/{id}"),
    ("POST", "/api/me/following/{id}"),
    ("DELETE", "/api/me/following/{id}"),
]


@pytest.mark.parametrize(
    "user_id",
    [
        pytest.param(2**31 - 1, id="int32-max"),
        pytest.param(2**31, id="past-int32"),
        pytest.param(2**63, id="past-int64"),
        pytest.param(10**30, id="huge"),
    ],
)
@pytest.mark.parametrize(("method", "path"), ID_ROUTES)
def test_user_id_past_the_database_range_is_404(
    client: FlaskClient, susan: ApiUser, method: str, path: str, user_id: int
) -> None:
    response = client.open(
        path.format(id=user_id), method=method, headers=susan.headers, json={"about_me": "x"}
    )

    assert_json_error(response, 404)


@pytest.mark.parametrize(
    "page",
    [
        # (page - 1) * per_page past 2**63 - 1 fits no SQL OFFSET.
        pytest.param(str(2**62), id="offset-past-int64"),
        pytest.param(str(2**63), id="past-int64"),
        pytest.param("1" + "0" * 30, id="huge"),
        # Python's int() refuses strings of over 4300 digits.
        pytest.param("9" * 5000, id="5000-digits"),
    ],
)
def test_page_number_past_any_offset_is_400_naming_page(
    client: FlaskClient, susan: ApiUser, page: str
) -> None:
    response = client.get("/api/users", query_string={"page": page}, headers=susan.headers)

    assert_json_error(response, 400, "page")


def test_nul_character_in_about_me_at_registration_is_400(client: FlaskClient) -> None:
    response = client.post(
        "/api/users",
        json={
            "username": "susan",
            "email": "susan@example.com",
            "password": "correct-horse",
            "about_me": "nul\x00byte",
        },
    )

    assert_json_error(response, 400, "about_me")


def test_nul_character_in_about_me_on_edit_is_400(client: FlaskClient, susan: ApiUser) -> None:
    response = client.put(
        f"/api/users/{susan.id}", json={"about_me": "nul\x00byte"}, headers=susan.headers
    )

    assert_json_error(response, 400, "about_me")
    assert client.get("/api/me", headers=susan.headers).json["about_me"] == ""


def test_nul_character_in_login_is_just_a_failed_login(client: FlaskClient, susan: ApiUser) -> None:
    unknown = client.post("/api/tokens", headers=basic_auth("nobody", susan.password))

    response = client.post("/api/tokens", headers=basic_auth("su\x00san", susan.password))

    assert assert_json_error(response, 401) == assert_json_error(unknown, 401)


def raw_basic(credentials: bytes) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(credentials).decode()}


@pytest.mark.parametrize(
    ("request_kwargs", "status"),
    [
        pytest.param({"headers": raw_basic(b"susan")}, 401, id="basic-without-colon"),
        pytest.param({"headers": raw_basic("sü:pässwörd".encode())}, 401, id="basic-utf8"),
        pytest.param(
            {"headers": raw_basic("sü:pässwörd".encode("latin-1"))}, 401, id="basic-latin1"
        ),
        pytest.param({"headers": {"Authorization": "Basic"}}, 401, id="basic-empty"),
        pytest.param({"headers": {"Authorization": "Digest x=y"}}, 401, id="other-scheme"),
    ],
)
def test_odd_credentials_for_a_token_are_401(
    client: FlaskClient, susan: ApiUser, request_kwargs: dict[str, Any], status: int
) -> None:
    assert_json_error(client.post("/api/tokens", **request_kwargs), status)


@pytest.mark.parametrize(
    "authorization",
    ["Bearer", "Bearer ", "Bearer a b c", "Bearer nul\x00token", "Bearer " + "f" * 10_000],
)
def test_odd_bearer_tokens_are_401(client: FlaskClient, susan: ApiUser, authorization: str) -> None:
    assert_json_error(client.get("/api/me", headers={"Authorization": authorization}), 401)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("username", "nul\x00byte"),
        ("email", "nul\x00byte@example.com"),
        ("username", "x" * 100_000),
        ("email", "x" * 100_000 + "@example.com"),
        ("password", "x" * 100_000),
        ("about_me", "x" * 100_000),
    ],
)
def test_odd_registration_values_are_400_naming_the_field(
    client: FlaskClient, field: str, value: str
) -> None:
    body = {"username": "susan", "email": "susan@example.com", "password": "correct-horse"}

    response = client.post("/api/users", json={**body, field: value})

    assert_json_error(response, 400, field)
