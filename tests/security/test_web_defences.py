"""The web site's own defences: XSS (escaping and a script policy without 'unsafe-inline') and
session fixation (signing in starts a new session). CSRF is tested form by form in
tests/web/test_csrf.py."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.support import ApiUser
from tests.web.web_support import Browser, text

XSS = "<script>alert(1)</script>"


def test_a_script_in_a_post_is_shown_as_text_under_a_policy_without_inline_script(
    app: Flask, client: FlaskClient, victim: ApiUser, attacker: ApiUser
) -> None:
    assert (
        client.post("/api/posts", json={"body": XSS}, headers=attacker.headers).status_code == 201
    )
    reader = Browser(app.test_client())
    assert reader.login("victim", victim.password).status_code == 302
    reader.follow("attacker")

    for path in ("/", "/explore", "/user/attacker", "/search?q=alert"):
        response = reader.get(path)
        page = text(response)
        assert response.status_code == 200, path
        assert XSS not in page, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, path
        policy = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy, path


def _session_data(app: Flask, cookie: str) -> dict[str, object]:
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    data: dict[str, object] = serializer.loads(cookie)
    return data


def test_signing_in_starts_a_new_session_and_the_old_cookie_stays_signed_out(
    app: Flask, victim: ApiUser
) -> None:
    browser = Browser(app.test_client())
    browser.get("/login")  # an anonymous session, holding a CSRF token
    planted = browser.client.get_cookie("session")
    assert planted is not None
    before = _session_data(app, planted.value)
    assert "csrf_token" in before and "_user_id" not in before

    assert browser.login("victim", victim.password).status_code == 302

    after_cookie = browser.client.get_cookie("session")
    assert after_cookie is not None and after_cookie.value != planted.value
    after = _session_data(app, after_cookie.value)
    assert "_user_id" in after
    # Nothing of the session the browser came with is carried over: not its CSRF token.
    assert after.get("csrf_token") != before["csrf_token"]
    assert app.login_manager.session_protection in ("basic", "strong")  # type: ignore[attr-defined]

    # Whoever kept the pre-sign-in cookie (a planted one) is not signed in with it.
    other = Browser(app.test_client())
    other.client.set_cookie("session", planted.value)
    assert other.signed_in_as() is None
    assert browser.signed_in_as() == "victim"
