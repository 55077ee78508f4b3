"""Security headers, cookie flags, local assets only, and user text escaped everywhere."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask

from tests.web.web_support import Browser, cookies_set, text

XSS = "<script>alert('x')</script>"
ESCAPED = "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"
HTTPS = {"X-Forwarded-Proto": "https", "Referer": "https://localhost/login"}


def csp(response_headers: dict[str, str]) -> dict[str, str]:
    """{directive: its sources} of the Content-Security-Policy."""
    policy = response_headers["Content-Security-Policy"]
    directives = [part.strip().partition(" ") for part in policy.split(";") if part.strip()]
    return {name: sources for name, _sep, sources in directives}


@pytest.mark.parametrize(
    "path", ["/login", "/register", "/reset_password_request", "/nowhere", "/fragments/unread"]
)
def test_every_answer_carries_the_security_headers(browser: Browser, path: str) -> None:
    response = browser.get(path)
    headers = dict(response.headers)
    policy = csp(headers)
    assert "'unsafe-inline'" not in headers["Content-Security-Policy"]
    assert "'unsafe-eval'" not in headers["Content-Security-Policy"]
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert headers["X-Frame-Options"] == "DENY"


def test_pages_have_no_inline_script_or_style_and_every_asset_is_local(
    signed_in: Callable[..., Browser],
) -> None:
    susan = signed_in("susan")
    susan.write("hello")
    for path in ("/", "/explore", "/user/susan", "/messages", "/search?q=hello", "/login"):
        html = text(susan.get(path, follow_redirects=True))
        scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
        assert scripts, path
        for attributes, body in scripts:
            assert body.strip() == "", f"inline script on {path}"
            assert re.search(r'src="/[^/]', attributes), attributes
        assert "<style" not in html and " style=" not in html, path
        assert not re.search(r"\son[a-z]+=", html), f"an inline event handler on {path}"
        for asset in re.findall(r'<(?:link|script)[^>]+(?:href|src)="([^"]+)"', html):
            assert asset.startswith("/"), asset
            with susan.get(asset) as served:  # a file: closed when read
                assert served.status_code == 200, asset


def test_session_cookies_are_httponly_and_lax_and_not_secure_over_http(
    browser: Browser,
) -> None:
    browser.register("susan")
    cookies = cookies_set(browser.login("susan", remember=True))
    for name in ("session", "remember_token"):
        assert "HttpOnly" in cookies[name] and "SameSite=Lax" in cookies[name], name
        assert "Secure" not in cookies[name], name


def test_behind_a_trusted_proxy_https_makes_every_cookie_secure(
    make_other_app: Callable[..., Flask],
) -> None:
    app = make_other_app(TRUSTED_PROXIES=1)
    person = Browser(app.test_client(), headers=HTTPS)
    person.register("susan")
    response = person.login("susan", remember=True)
    assert response.location == "/"
    cookies = cookies_set(response)
    for name in ("session", "remember_token"):
        assert "; Secure" in cookies[name], cookies[name]
        assert "HttpOnly" in cookies[name] and "SameSite=Lax" in cookies[name], name
    assert "max-age=" in response.headers.get("Strict-Transport-Security", "")
    assert person.signed_in_as() == "susan"


def test_without_trusted_proxies_a_forwarded_proto_is_not_believed(browser: Browser) -> None:
    browser.register("susan")
    response = browser.login("susan", remember=True, headers={"X-Forwarded-Proto": "https"})
    assert response.location == "/"
    for name in ("session", "remember_token"):
        assert "Secure" not in cookies_set(response)[name], name


def test_what_people_write_is_shown_as_text_everywhere(
    signed_in: Callable[..., Browser],
) -> None:
    mallory = signed_in("mallory")
    susan = signed_in("susan")
    mallory.submit("/edit_profile", {"username": "mallory", "about_me": XSS})
    mallory.write(f"{XSS} trains")
    mallory.send_message("susan", XSS)
    pages = {
        "home": mallory.get("/"),
        "explore": susan.get("/explore"),
        "profile": susan.get("/user/mallory"),
        "card": susan.get("/user/mallory/popup"),
        "inbox": susan.get("/messages"),
        "people": susan.get("/search", query_string={"q": "script", "type": "users"}),
        "posts": susan.get("/search", query_string={"q": "trains"}),
        "echo": susan.get("/search", query_string={"q": f'{XSS} "x'}),
        "no match": susan.get("/search", query_string={"q": f"zzz{XSS}"}),
    }
    for name, response in pages.items():
        html = text(response)
        assert response.status_code == 200, name
        assert "<script>alert" not in html, name
        assert ESCAPED in html or "&lt;script&gt;" in html, name
    echo = text(pages["no match"])
    assert 'value="zzz&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"' in echo
    assert 'No posts match "zzz&lt;script&gt;alert(&#39;x&#39;)' in echo


def test_a_username_is_escaped_in_the_pages_that_show_it(
    signed_in: Callable[..., Browser],
) -> None:
    # Usernames are letters, digits, '_', '.' and '-': nothing to escape can get in.
    susan = signed_in("susan")
    page = susan.submit("/edit_profile", {"username": "<b>bold</b>", "about_me": ""})
    assert page.status_code == 200
    assert "<b>bold</b>" not in text(page) and 'value="&lt;b&gt;bold&lt;/b&gt;"' in text(page)
