"""A username is a path segment of its profile link (/user/<name>): '.' and '..' would be
resolved away by browsers, so both doors refuse them with the rule's message."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.api.api_helpers import assert_json_error
from tests.support import ApiUser
from tests.web.web_support import Browser, field_errors, text


@pytest.mark.parametrize("name", [".", ".."])
def test_the_api_refuses_a_dot_segment_as_a_new_or_changed_username(
    client: FlaskClient, make_user: Callable[..., ApiUser], name: str
) -> None:
    created = client.post(
        "/api/users",
        json={"username": name, "email": "dots@example.com", "password": "correct-horse"},
    )
    assert_json_error(created, 400, "username", "'.' or '..'")

    susan = make_user("susan")
    renamed = client.put(f"/api/users/{susan.id}", json={"username": name}, headers=susan.headers)
    assert_json_error(renamed, 400, "username", "'.' or '..'")
    shown = client.get(f"/api/users/{susan.id}", headers=susan.headers)
    assert shown.json is not None and shown.json["username"] == "susan"


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "username cannot be '.' or '..': a link to its profile would lead elsewhere"),
        ("es", "el nombre de usuario no puede ser '.' ni '..'"),
    ],
)
def test_the_site_refuses_a_dot_segment_as_a_username_in_the_reader_s_language(
    app: Flask, language: str, message: str
) -> None:
    newcomer = Browser(app.test_client(), language=language)
    registered = newcomer.register("..")
    assert registered.status_code == 200
    assert any(error.startswith(message) for error in field_errors(registered))

    susan = Browser(app.test_client(), language=language)
    assert susan.register("susan").status_code == 302
    assert susan.login("susan").status_code == 302
    edited = susan.submit("/edit_profile", {"username": ".", "about_me": ""})
    assert edited.status_code == 200
    assert any(error.startswith(message) for error in field_errors(edited))
    assert "<h1>susan</h1>" in text(susan.get("/user/susan"))
