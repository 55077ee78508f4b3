"""API8:2023 Security misconfiguration: debug off unless asked for, no stack traces in errors,
security headers on every answer of both doors, and CORS closed unless CORS_ORIGINS opens it.
(The secret key's rules are in tests/test_config.py.)"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from microblog import create_app
from tests.server.live_support import LiveServer, run_live_server
from tests.support import ApiUser

PAGE = "text/html,application/xhtml+xml,*/*;q=0.8"
SITE = "https://app.example.com"
PREFLIGHT = {
    "Origin": SITE,
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type",
}


def cors_headers(response: TestResponse) -> list[str]:
    return [name for name, _value in response.headers.items() if name.startswith("Access-Control-")]


def test_debug_and_testing_are_off_by_default(
    monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    assert app.debug is False
    assert app.config["DEBUG"] is False
    assert app.config["TESTING"] is False


@pytest.mark.parametrize("accept", ["application/json", PAGE])
def test_an_unexpected_error_shows_no_stack_trace(
    make_other_app: Callable[..., Flask], accept: str
) -> None:
    app = make_other_app()

    def boom() -> str:
        raise RuntimeError("secret detail of the failure")

    app.add_url_rule("/boom", "boom", boom)
    response = app.test_client().get("/boom", headers={"Accept": accept})

    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "Traceback" not in body and "secret detail" not in body and "RuntimeError" not in body


HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


@pytest.mark.parametrize(
    ("path", "accept"),
    [
        ("/api/me", "application/json"),
        ("/api/users/999", "application/json"),
        ("/api/nowhere", "application/json"),
        ("/login", PAGE),
        ("/nowhere", PAGE),
    ],
)
def test_the_api_and_the_site_send_the_security_headers(
    app: Flask, victim: ApiUser, path: str, accept: str
) -> None:
    response = app.test_client().get(path, headers={**victim.headers, "Accept": accept})

    for name, value in HEADERS.items():
        assert response.headers.get(name) == value, (path, name)
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy


def test_cors_is_closed_by_default(app: Flask, victim: ApiUser) -> None:
    client = app.test_client()
    assert app.config["CORS_ORIGINS"] == []

    preflight = client.options("/api/posts", headers=PREFLIGHT)
    read = client.get("/api/me", headers={**victim.headers, "Origin": SITE})

    for response in (preflight, read):
        assert not cors_headers(response)


def test_cors_origins_may_call_the_api_and_only_the_api(
    make_other_app: Callable[..., Flask], victim: ApiUser
) -> None:
    client = make_other_app(CORS_ORIGINS=[SITE]).test_client()

    preflight = client.options("/api/posts", headers=PREFLIGHT)
    assert preflight.headers["Access-Control-Allow-Origin"] == SITE
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "authorization" in preflight.headers["Access-Control-Allow-Headers"].lower()
    assert "Access-Control-Allow-Credentials" not in preflight.headers

    read = client.get("/api/me", headers={**victim.headers, "Origin": SITE})
    assert read.status_code == 200
    assert read.headers["Access-Control-Allow-Origin"] == SITE
    assert "ETag" in read.headers["Access-Control-Expose-Headers"]

    elsewhere = client.get("/api/me", headers={**victim.headers, "Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in elsewhere.headers
    page = client.get("/login", headers={"Origin": SITE})
    assert not cors_headers(page)


def test_cors_origins_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from microblog.config import from_environment

    monkeypatch.delenv("CORS_ORIGINS", raising=False)
    assert from_environment("/tmp")["CORS_ORIGINS"] == []
    monkeypatch.setenv("CORS_ORIGINS", f"{SITE}, https://other.example")
    assert from_environment("/tmp")["CORS_ORIGINS"] == [SITE, "https://other.example"]


def _public_url_warnings(server: LiveServer) -> list[str]:
    return [
        line for line in server.log_path.read_text().splitlines() if "PUBLIC_URL is not" in line
    ]


@pytest.mark.live
def test_behind_a_proxy_a_server_without_public_url_says_so_once_at_start(
    database_factory: Callable[[str], str], tmp_path: Path
) -> None:
    database = database_factory("sqlite")
    for name in ("bare", "set"):
        (tmp_path / name).mkdir()
    with run_live_server(database, tmp_path / "bare", {"TRUSTED_PROXIES": "1"}) as bare:
        [warning] = _public_url_warnings(bare)  # once, though two workers started
        assert json.loads(warning)["level"] == "WARNING"
    with run_live_server(
        database,
        tmp_path / "set",
        {"TRUSTED_PROXIES": "1", "PUBLIC_URL": "https://microblog.example.com"},
    ) as configured:
        assert _public_url_warnings(configured) == []
