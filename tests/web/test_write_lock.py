"""A signed-in person's session is looked up before a form that writes takes SQLite's write
lock (see tests/test_write_lock.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from tests.test_write_lock import statements_seen
from tests.web.web_support import Browser

sqlite_only = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


@sqlite_only
def test_a_signed_in_person_posting_a_form_is_looked_up_before_the_write_lock(
    app: Flask, signed_in: Callable[..., Browser]
) -> None:
    susan = signed_in("susan")
    token = susan.csrf_token("/")

    with statements_seen(app) as seen:
        written = susan.post("/", data={"post": "hello", "csrf_token": token}, token_from=None)

    assert written.status_code == 302
    # The session and its person, on their own; then everything else in the transaction.
    assert seen[0] == ("SELECT", False)
    assert len(seen) > 1 and all(in_transaction for _statement, in_transaction in seen[1:])
