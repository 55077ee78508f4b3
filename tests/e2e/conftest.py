"""End-to-end: Debian's Chromium, driven by Playwright (sync API), using the site as people do.

The server is the real one (`microblog db upgrade`, then gunicorn as `make run` starts it), one
for the session, on SQLite only: these tests are about the pages and their script, which are the
same on both backends, and tests/server already runs the live server on PostgreSQL too. The
unread badge polls every second (UNREAD_POLL_SECONDS) so the tests need not wait ten.

Each person is a browser context of their own (own cookies), in a time zone other than the
server's UTC so that "local time" shows. Every context is watched: a console error or an
uncaught exception (CSP violations land there) or a request to any host but 127.0.0.1 fails the
test: avatars are drawn by the server itself, so the pages name no other host.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Dialog,
    Page,
    Route,
    StorageState,
    expect,
    sync_playwright,
)

from tests.server.live_support import REPO_ROOT, VENV_BIN, LiveServer, run_live_server
from tests.support import CHROMIUM, CHROMIUM_ARGS, chromium_or_skip

SCREENSHOTS = REPO_ROOT / "test-output" / "e2e"
CATALOGS = REPO_ROOT / "microblog" / "translations"
LOCAL_HOST = "127.0.0.1"
# Tokyo keeps UTC+9 all year: a local time that can never be mistaken for the server's UTC.
TIME_ZONE = "Asia/Tokyo"
PASSWORD = "correct-horse-battery"
POLL_SECONDS = 1


def _compile_catalogs() -> None:
    """`make catalogs` when a .mo is missing or older than its .po: the Spanish pages need it."""
    stale = [
        po
        for po in CATALOGS.glob("*/LC_MESSAGES/messages.po")
        if not po.with_suffix(".mo").exists()
        or po.with_suffix(".mo").stat().st_mtime < po.stat().st_mtime
    ]
    if stale:
        subprocess.run(
            [str(VENV_BIN / "pybabel"), "compile", "--use-fuzzy", "-d", str(CATALOGS)],
            check=True,
            capture_output=True,
            timeout=60,
        )


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    chromium_or_skip()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def e2e_server(
    database_factory: Callable[[str], str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """The real server on a SQLite database of its own; tests make uniquely named users."""
    _compile_catalogs()
    with run_live_server(
        database_factory("sqlite"),
        tmp_path_factory.mktemp("e2e"),
        extra_env={"UNREAD_POLL_SECONDS": str(POLL_SECONDS)},
    ) as server:
        yield server


@dataclass
class Person:
    """Someone signed in, in a browser context of their own."""

    username: str
    password: str
    context: BrowserContext
    page: Page


@dataclass
class Browsing:
    """Opens watched browser contexts on the server, and keeps what went wrong in them."""

    browser: Browser
    server: LiveServer
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    contexts: list[BrowserContext] = field(default_factory=list)

    def window(self, locale: str = "en-US", storage_state: StorageState | None = None) -> Page:
        """A page in a new context: a new browser profile with the given language."""
        context = self.browser.new_context(
            base_url=self.server.base_url,
            locale=locale,
            timezone_id=TIME_ZONE,
            viewport={"width": 1280, "height": 900},
            storage_state=storage_state,
        )
        self.contexts.append(context)
        context.route("**/*", self._only_this_server)
        context.on("console", self._console)
        context.on("weberror", lambda error: self.page_errors.append(str(error.error)))
        context.on("dialog", self._dialog)
        return context.new_page()

    def newcomer(self, prefix: str) -> Person:
        """Someone new: registers through the form, then signs in, landing on the home page."""
        username = f"{prefix}_{uuid.uuid4().hex[:8]}"
        page = self.window()
        page.goto("/")
        page.get_by_role("navigation").get_by_role("link", name="Register").click()
        page.get_by_label("Username", exact=True).fill(username)
        page.get_by_label("Email").fill(f"{username}@example.com")
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_label("Repeat password").fill(PASSWORD)
        page.get_by_role("button", name="Register").click()
        expect(page.get_by_role("alert")).to_contain_text("You can sign in now")
        page.get_by_label("Username or email").fill(username)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name=f"Hi, {username}!")).to_be_visible()
        return Person(username, PASSWORD, page.context, page)

    def problems(self) -> list[str]:
        return [
            *(f"console error: {text}" for text in self.console_errors),
            *(f"uncaught exception: {text}" for text in self.page_errors),
            *(f"request to another host: {url}" for url in self.foreign_requests),
            *(f"dialog: {text}" for text in self.dialogs),
        ]

    def _only_this_server(self, route: Route) -> None:
        url = route.request.url
        host = urlsplit(url).hostname
        if host == LOCAL_HOST:
            route.continue_()
        else:
            self.foreign_requests.append(url)
            route.abort()

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            where = message.location.get("url", "")
            self.console_errors.append(f"{message.text} ({where})")

    def _dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()


@pytest.fixture
def browsing(browser: Browser, e2e_server: LiveServer) -> Iterator[Browsing]:
    """Browser contexts for this test; afterwards, none may have logged an error, opened a
    dialog, or asked another host for anything."""
    session = Browsing(browser, e2e_server)
    yield session
    problems = session.problems()
    for context in session.contexts:
        context.close()
    assert not problems, "the browser saw:\n" + "\n".join(problems)


Screenshot = Callable[[Page, str], Path]


@pytest.fixture
def screenshot() -> Screenshot:
    """Saves a full-page screenshot as test-output/e2e/<name>.png."""

    def take(page: Page, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
