"""Helpers for the web tests: a browser-like client, and reading what a page shows."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

PASSWORD = "correct-horse"
CSRF_FIELD = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')
TAGS = re.compile(r"<[^>]+>")

# Every POST of the site (not the API), with what a form would send; {token}: a reset token.
# tests/web/test_csrf.py holds that no POST route is missing.
SITE_POSTS = {
    "/register": {
        "username": "mallory",
        "email": "m@example.com",
        "password": PASSWORD,
        "password2": PASSWORD,
    },
    "/login": {"username": "susan", "password": PASSWORD},
    "/logout": {},
    "/reset_password_request": {"email": "susan@example.com"},
    "/reset_password/{token}": {"password": "taken-over!", "password2": "taken-over!"},
    "/": {"post": "forged"},
    "/index": {"post": "forged"},
    "/edit_profile": {"username": "forged", "email": "forged@example.com", "about_me": "forged"},
    "/delete_account": {"password": PASSWORD},
    "/follow/carol": {},
    "/unfollow/john": {},
    "/send_message/john": {"message": "forged"},
    "/export": {},
    "/sessions/3/end": {},  # susan's own session, in the CSRF test (john's is 1, carol's 2)
    "/sessions/end_others": {},
}


@dataclass
class Browser:
    """A person at a browser: a test client that asks for HTML, in a language, and fills in
    the CSRF token of the page a form is on, as the page would. Each answer is read whole and
    closed, as a server closes it once sent (work started then, such as a job, starts)."""

    client: FlaskClient
    language: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        headers = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8", **self.headers}
        if self.language:
            headers["Accept-Language"] = self.language
        return {**headers, **(extra or {})}

    def get(self, path: str, headers: dict[str, str] | None = None, **kw: Any) -> TestResponse:
        kw.setdefault("buffered", True)
        return self.client.get(path, headers=self._headers(headers), **kw)

    def post(
        self,
        path: str,
        data: dict[str, Any] | None = None,
        *,
        token_from: str | None = "/",
        headers: dict[str, str] | None = None,
        **kw: Any,
    ) -> TestResponse:
        """POST `data`, with the CSRF token found on the page `token_from` (None: no token)."""
        data = dict(data or {})
        if token_from is not None:
            data.setdefault("csrf_token", self.csrf_token(token_from))
        if not data:
            # A browser sends a form with no field (or none filled in) with its Content-Type.
            kw.setdefault("content_type", "application/x-www-form-urlencoded")
        kw.setdefault("buffered", True)
        return self.client.post(path, data=data, headers=self._headers(headers), **kw)

    def submit(self, page: str, data: dict[str, Any], action: str | None = None) -> TestResponse:
        """Fill in the form on `page` and send it (to `action`, or back to the page)."""
        return self.post(action or page, data, token_from=page)

    def csrf_token(self, page: str) -> str:
        response = self.get(page)
        assert response.status_code == 200, (page, response.status_code, response.location)
        match = CSRF_FIELD.search(response.get_data(as_text=True))
        assert match, f"no CSRF token on {page}"
        return match.group(1)

    # -- what people do -------------------------------------------------------------------

    def register(
        self, username: str, *, email: str | None = None, password: str = PASSWORD
    ) -> TestResponse:
        return self.submit(
            "/register",
            {
                "username": username,
                "email": email or f"{username.lower()}@example.com",
                "password": password,
                "password2": password,
            },
        )

    def login(
        self,
        username: str,
        password: str = PASSWORD,
        *,
        remember: bool = False,
        next: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> TestResponse:
        data = {"username": username, "password": password}
        if remember:
            data["remember_me"] = "y"
        action = "/login" if next is None else f"/login?next={next}"
        return self.post(action, data, token_from="/login", headers=headers)

    def logout(self) -> TestResponse:
        return self.post("/logout")

    def write(self, body: str) -> TestResponse:
        return self.submit("/", {"post": body})

    def follow(self, username: str) -> TestResponse:
        return self.post(f"/follow/{username}", token_from=f"/user/{username}")

    def unfollow(self, username: str) -> TestResponse:
        return self.post(f"/unfollow/{username}", token_from=f"/user/{username}")

    def send_message(self, username: str, body: str) -> TestResponse:
        return self.submit(f"/send_message/{username}", {"message": body})

    def signed_in_as(self) -> str | None:
        """The username the navigation's Profile link names, or None when signed out."""
        page = self.get("/explore", follow_redirects=True).get_data(as_text=True)
        match = re.search(r'class="nav-link" href="/user/([^"/]+)"', page)
        return match.group(1) if match else None


def text(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def _texts(response: TestResponse, pattern: str) -> list[str]:
    return [
        html.unescape(TAGS.sub("", found)).strip()
        for found in re.findall(pattern, text(response), re.S)
    ]


def flashes(response: TestResponse) -> list[str]:
    """The flashed messages a page shows."""
    return _texts(response, r'<div class="alert alert-[a-z]+" role="alert">(.*?)</div>')


def field_errors(response: TestResponse) -> list[str]:
    """The errors shown under the fields of a form."""
    return _texts(response, r'<div class="invalid-feedback">(.*?)</div>')


def labels(response: TestResponse) -> list[str]:
    return _texts(response, r"<label[^>]*>(.*?)</label>")


def post_bodies(response: TestResponse) -> list[str]:
    return _texts(response, r'<p class="mb-1 post-body"[^>]*>(.*?)</p>')


def message_bodies(response: TestResponse) -> list[str]:
    return _texts(response, r'<p class="mb-1 message-body">(.*?)</p>')


def cookies_set(response: TestResponse) -> dict[str, str]:
    """{name: the whole Set-Cookie header} of a response."""
    return {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}
