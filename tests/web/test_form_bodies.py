"""The site's forms read only what a browser sends for a form: any other body is a 415 before a
view (or CSRFProtect) reads it, and a field of the wrong type is a 400, never a 500. Every POST
route of the site is tried (SITE_POSTS, held complete by tests/web/test_csrf.py)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from microblog.accounts.services import get_by_username
from microblog.extensions import db
from microblog.web.auth import reset_token
from tests.web.web_support import PASSWORD, SITE_POSTS, Browser, text

FORM_TYPES = "application/x-www-form-urlencoded or multipart/form-data"
ANONYMOUS_POSTS = ("/register", "/login", "/reset_password_request", "/reset_password/{token}")


@dataclass
class Site:
    """susan, signed in, following john (who wrote a post); carol; someone signed out."""

    app: Flask
    susan: Browser
    anonymous: Browser
    link_token: str

    def sender(self, path: str) -> Browser:
        return self.anonymous if path in ANONYMOUS_POSTS else self.susan

    def url(self, path: str) -> str:
        return path.format(token=self.link_token)

    def token_page(self, path: str) -> str:
        return "/login" if path in ANONYMOUS_POSTS else "/"

    def state(self) -> dict[str, Any]:
        """What a processed form would change: a row anywhere, or susan's account."""
        with self.app.app_context():
            rows = {
                table.name: db.session.scalar(select(func.count()).select_from(table))
                for table in db.metadata.sorted_tables
            }
            susan = get_by_username(db.session, "susan")
            return {**rows, "susan": (susan.about_me, susan.password_hash)}


@pytest.fixture
def site(app: Flask, signed_in: Callable[..., Browser]) -> Site:
    signed_in("john").write("john's post")
    signed_in("carol")
    susan = signed_in("susan")
    susan.follow("john")
    with app.app_context():
        link_token = reset_token(get_by_username(db.session, "susan"))
    return Site(app, susan, Browser(app.test_client()), link_token)


def assert_unchanged(site: Site, before: dict[str, Any]) -> None:
    assert site.state() == before
    assert site.susan.signed_in_as() == "susan"
    assert site.anonymous.signed_in_as() is None


@pytest.mark.parametrize("path", SITE_POSTS)
def test_a_form_sent_as_json_with_its_token_in_a_header_is_refused_with_415(
    site: Site, path: str
) -> None:
    person = site.sender(path)
    token = person.csrf_token(site.token_page(path))
    before = site.state()

    response = person.client.post(
        site.url(path),
        data=json.dumps(SITE_POSTS[path]),
        headers={"Content-Type": "application/json", "X-CSRFToken": token, "Accept": "*/*"},
    )

    assert response.status_code == 415, text(response)
    assert response.json is not None
    assert response.json["error"] == "Unsupported Media Type"
    assert FORM_TYPES in response.json["message"] and "application/json" in response.json["message"]
    assert response.headers["Accept"] == "application/x-www-form-urlencoded, multipart/form-data"
    assert_unchanged(site, before)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        pytest.param(
            "application/json",
            json.dumps({"username": 1, "password": ["a", "b"], "remember_me": {"y": True}}),
            id="json-numbers-lists-objects",
        ),
        pytest.param("application/json", "[1, 2]", id="json-array"),
        pytest.param("text/plain", f"username=susan\r\npassword={PASSWORD}", id="text-plain"),
        pytest.param(None, f"username=susan&password={PASSWORD}", id="no-content-type"),
    ],
)
def test_sign_in_with_a_body_that_is_no_form_is_refused_with_415(
    site: Site, content_type: str | None, body: str
) -> None:
    token = site.anonymous.csrf_token("/login")
    headers = {"X-CSRFToken": token, "Accept": "text/html,*/*;q=0.8"}
    if content_type:
        headers["Content-Type"] = content_type

    response = site.anonymous.client.post("/login", data=body.encode(), headers=headers)

    assert response.status_code == 415, text(response)
    # A browser's Accept: a page, naming what a form is sent as.
    assert response.mimetype == "text/html"
    assert FORM_TYPES in text(response)
    assert site.anonymous.signed_in_as() is None


def test_a_body_that_is_no_form_is_refused_before_its_csrf_token_is_sought(site: Site) -> None:
    """The site's check runs before CSRFProtect: the answer names the encoding, not a token."""
    response = site.susan.client.post(
        "/edit_profile", json={"username": "forged"}, headers={"Accept": "application/json"}
    )

    assert response.status_code == 415
    assert response.json is not None and "CSRF" not in response.json["message"]


def test_a_form_sent_as_multipart_is_read_as_the_same_form(site: Site) -> None:
    browser = Browser(site.app.test_client())
    data = {"username": "susan", "password": PASSWORD, "csrf_token": browser.csrf_token("/login")}

    response = browser.post("/login", data, token_from=None, content_type="multipart/form-data")

    assert response.status_code == 302 and response.location == "/"
    assert browser.signed_in_as() == "susan"


def _as_files(fields: dict[str, str]) -> dict[str, Any]:
    return {name: (io.BytesIO(value.encode()), f"{name}.txt") for name, value in fields.items()}


@pytest.mark.parametrize("path", SITE_POSTS)
def test_a_file_where_a_form_takes_text_is_refused_with_400(site: Site, path: str) -> None:
    """Every field of the form as a file part; a button (follow, export ...) has no field but
    its CSRF token, which is sent as a file then."""
    person = site.sender(path)
    token = person.csrf_token(site.token_page(path))
    fields = SITE_POSTS[path]
    data = (
        {**_as_files(fields), "csrf_token": token} if fields else _as_files({"csrf_token": token})
    )
    before = site.state()

    response = person.post(site.url(path), data, token_from=None)

    assert response.status_code == 400, text(response)
    page = text(response)
    assert "takes text, not a file" in page if fields else "CSRF" in page
    assert_unchanged(site, before)


def test_a_file_part_named_after_no_field_is_ignored(site: Site) -> None:
    data = {"post": "hello", "attachment": (io.BytesIO(b"\x00\xff"), "a.bin")}

    response = site.susan.submit("/", data)

    assert response.status_code == 302
    assert "hello" in text(site.susan.get("/"))
