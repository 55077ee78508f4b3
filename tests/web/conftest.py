"""Fixtures for the web tests: people at browsers, and apps with settings of their own."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from tests.web.web_support import PASSWORD, Browser


@pytest.fixture
def browser(app: Flask) -> Browser:
    """Someone who has not signed in."""
    return Browser(app.test_client())


@pytest.fixture
def signed_in(app: Flask) -> Callable[..., Browser]:
    """`signed_in("susan")`: a new browser of a newly registered person, signed in."""

    def make(username: str, *, language: str | None = None, **account: str) -> Browser:
        person = Browser(app.test_client(), language=language)
        assert person.register(username, **account).status_code == 302
        assert person.login(username, account.get("password", PASSWORD)).status_code == 302
        return person

    return make
