"""The generated OpenAPI document against the real server.

Schemathesis generates requests for every operation from the document the server publishes,
valid and invalid ones, and checks every answer against that same document: never a 5xx, every
status documented, every body matching its schema, the documented content types and headers.
And a real browser renders the docs page from local files only.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import hypothesis
import pytest
import schemathesis
from schemathesis import Case, GenerationMode

from microblog.api.openapi import openapi_document
from microblog.extensions import db
from tests.server.live_support import REPO_ROOT, LiveServer
from tests.server.schema_checks import CONFORMANCE
from tests.support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    ApiUser,
    chromium_or_skip,
    make_app,
    required_or_skip,
)

pytestmark = pytest.mark.live

# Per operation and backend: positive and negative cases together, some 30 operations.
MAX_EXAMPLES = 25
SCREENSHOT = REPO_ROOT / "test-output" / "api-docs.png"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def _documented_operations() -> list[tuple[str, str]]:
    """(method, path) of every operation, from the document an app of this tree generates (no
    database needed), so that each is a test of its own."""
    app = make_app("sqlite://")
    with app.app_context():
        paths = openapi_document(app)["paths"]
        db.engine.dispose()
    return [(method.upper(), path) for path, item in paths.items() for method in item]


OPERATIONS = _documented_operations()
# Requests sent per backend, and seconds spent, by this module's generated cases (reported when
# the module ends; test_schemathesis_stateful.py adds its own).
SENT: Counter[str] = Counter()
SPENT: Counter[str] = Counter()


@pytest.fixture(scope="module", autouse=True)
def _report_requests_sent() -> Iterator[None]:
    yield
    # Torn down once per backend (pytest runs one backend's tests, then the other's).
    for backend, count in SENT.items():
        print(f"\n[{backend}] stateless: {count} requests in {SPENT[backend]:.1f} s")
    SENT.clear()
    SPENT.clear()


@pytest.fixture
def api_schema(
    live_server: LiveServer,
    register: Callable[..., ApiUser],
    served_document: dict[str, Any],
) -> schemathesis.BaseSchema:
    """The server's document, authenticated as a new user of this test's own: the generated
    requests may rename the user or revoke its token, and must not spoil the next test."""
    user = register(live_server, "fuzz")
    config = schemathesis.Config.from_dict(
        {
            "base-url": live_server.base_url,
            "auth": {
                "openapi": {
                    "bearerAuth": {"bearer": user.token},
                    "basicAuth": {"username": user.username, "password": user.password},
                }
            },
        }
    )
    return schemathesis.openapi.from_dict(served_document, config=config)


def test_the_server_serves_the_document_of_this_tree(served_document: dict[str, Any]) -> None:
    served = {
        (method.upper(), path) for path, item in served_document["paths"].items() for method in item
    }
    assert served == set(OPERATIONS)


@pytest.mark.parametrize(
    ("method", "path"), OPERATIONS, ids=[f"{method} {path}" for method, path in OPERATIONS]
)
def test_operation_answers_as_documented(
    api_schema: schemathesis.BaseSchema, method: str, path: str, backend: str
) -> None:
    """Valid and invalid requests alike: never a 5xx, and always an answer the document allows."""
    operation = api_schema[path][method]
    cases = operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(
        GenerationMode.NEGATIVE
    )

    @hypothesis.given(case=cases)
    @hypothesis.settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    def answers_as_documented(case: Case) -> None:
        response = case.call()
        SENT[backend] += 1
        # gunicorn refuses a request line over 4094 bytes itself, in HTML, before the app sees
        # it: a limit of the server in front, not an answer of the API.
        hypothesis.assume(response.status_code != 414)
        case.validate_response(response, checks=CONFORMANCE)

    started = time.monotonic()
    try:
        answers_as_documented()
    finally:
        SPENT[backend] += time.monotonic() - started


def _playwright_or_skip() -> Callable[[], Any]:
    """Playwright's entry point, if it and Debian's Chromium are here (a must under CI)."""
    reason = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason = "the playwright package is not installed (pip install -e '.[dev]')"
    else:
        chromium_or_skip()
    if reason is not None:
        required_or_skip(reason)
    return sync_playwright


def test_docs_page_renders_in_a_real_browser(
    live_server: LiveServer, served_document: dict[str, Any]
) -> None:
    sync_playwright = _playwright_or_skip()
    operation_count = sum(len(item) for item in served_document["paths"].values())
    requested: list[str] = []
    page_errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("request", lambda request: requested.append(request.url))
            page.on("pageerror", lambda error: page_errors.append(str(error)))
            page.on(
                "console",
                lambda message: (
                    page_errors.append(message.text) if message.type == "error" else None
                ),
            )
            page.goto(live_server.url("/api/docs"))
            page.locator(".opblock").first.wait_for(timeout=30_000)
            page.wait_for_load_state("networkidle")
            assert page.locator(".opblock").count() == operation_count
            register = page.get_by_text("Register a new account").first
            assert register.is_visible()
            register.click()
            # The request body's schema, rendered from components/schemas/UserCreate.
            body = page.locator(".opblock.is-open .opblock-body").first
            body.wait_for(timeout=10_000)
            assert "username" in body.inner_text()
            assert page.locator(".info .title").first.inner_text().startswith("Microblog API")
            SCREENSHOT.parent.mkdir(exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=True)
        finally:
            browser.close()
    assert not page_errors, page_errors
    foreign = [url for url in requested if urlsplit(url).hostname not in LOCAL_HOSTS]
    assert requested, "the browser made no request at all"
    assert not foreign, f"requests to other hosts: {foreign}"
