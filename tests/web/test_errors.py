"""404 and 500: a page for browsers, JSON for clients that ask for it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from tests.web.web_support import Browser, text

HTML = {"Accept": "text/html"}
JSON = {"Accept": "application/json"}


@pytest.fixture
def failing_app(make_other_app: Callable[..., Flask]) -> Flask:
    """An app with one more page, which fails."""
    app = make_other_app()

    @app.get("/test-only/fails")
    def fails() -> str:
        raise RuntimeError("the test's deliberate failure")

    return app


@pytest.mark.parametrize("path", ["/nowhere", "/user/nobody/popup/more", "/export/x/y/z"])
def test_404_is_a_page_for_browsers_and_json_for_api_clients(app: Flask, path: str) -> None:
    client = app.test_client()
    page = client.get(path, headers=HTML)
    assert page.status_code == 404
    assert page.mimetype == "text/html"
    assert "<h1>404 Not Found</h1>" in text(page)
    assert 'href="/">Back to Microblog</a>' in text(page)
    assert page.headers["Content-Security-Policy"]

    answer = client.get(path, headers=JSON)
    assert answer.status_code == 404
    assert answer.mimetype == "application/json"
    assert answer.json is not None and answer.json["error"] == "Not Found"
    assert set(answer.json) == {"error", "message"}


def test_500_is_a_page_for_browsers_and_json_for_api_clients(
    failing_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    client = failing_app.test_client()
    page = client.get("/test-only/fails", headers=HTML)
    assert page.status_code == 500
    assert page.mimetype == "text/html"
    assert "<h1>500 Internal Server Error</h1>" in text(page)
    assert "deliberate" not in text(page) and "Traceback" not in text(page)

    answer = client.get("/test-only/fails", headers=JSON)
    assert answer.status_code == 500
    assert answer.json is not None and answer.json["error"] == "Internal Server Error"
    assert set(answer.json) == {"error", "message"}
    assert "deliberate" not in answer.get_data(as_text=True)
    assert "the test's deliberate failure" in caplog.text


def test_500_for_a_signed_in_browser_in_spanish(failing_app: Flask) -> None:
    person = Browser(failing_app.test_client(), language="es")
    person.register("susan")
    person.login("susan")
    page = person.get("/test-only/fails")
    assert page.status_code == 500
    assert "<h1>500 Error interno del servidor</h1>" in text(page)
    assert person.signed_in_as() == "susan"  # the site goes on


def test_a_wrong_method_is_405_with_allow(browser: Browser) -> None:
    page = browser.get("/logout")
    assert page.status_code == 405
    assert page.headers["Allow"] == "OPTIONS, POST"
    assert "<h1>405 Method Not Allowed</h1>" in text(page)


@pytest.mark.parametrize("accept", [HTML, JSON])
def test_an_answer_chosen_by_accept_varies_by_accept(app: Flask, accept: dict[str, str]) -> None:
    """A shared cache must not give a browser the JSON, or a script the page."""
    client = app.test_client()
    for path in ("/nowhere", "/explore", "/fragments/unread"):  # a 404; signed out: 302 or 401
        answer = client.get(path, headers=accept)
        assert answer.status_code in (302, 401, 404), path
        assert "Accept" in answer.vary, path


def test_the_api_answers_json_whatever_the_accept_so_does_not_vary_by_it(app: Flask) -> None:
    answer = app.test_client().get("/api/nowhere", headers=HTML)
    assert (answer.status_code, answer.mimetype) == (404, "application/json")
    assert "Accept" not in answer.vary
