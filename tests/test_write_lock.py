"""On SQLite a writer holds the file's write lock from its first write to its commit, not
from its first statement: who is asking (the bearer token's look-up) and the CPU work before
the first write (checking the body, detecting its language) run while another writer holds
the lock, so writers in other workers do not wait for each other's CPU."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from microblog.extensions import db
from microblog.posts import services
from microblog.posts.language import detect_language
from tests.support import ApiUser

sqlite_only = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
WAIT = 30.0
GERMAN = "Das ist ein kurzer Beitrag über das Wetter von heute."


@contextlib.contextmanager
def statements_seen(app: Flask) -> Iterator[list[tuple[str, bool]]]:
    """Each statement, and whether its connection was inside a transaction when it ran."""
    seen: list[tuple[str, bool]] = []

    def record(_conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
        seen.append((statement.split()[0].upper(), bool(cursor.connection.in_transaction)))

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


@contextlib.contextmanager
def _write_lock_held(app: Flask) -> Iterator[None]:
    """Another writer (a connection of its own) holds the database's write lock."""
    with app.app_context():
        path = db.engine.url.database
    assert path
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        yield
        other.execute("COMMIT")
    finally:
        other.close()


@sqlite_only
def test_a_posts_statements_run_in_one_transaction_after_the_token_look_up(
    app: Flask, client: FlaskClient, make_user: Callable[..., ApiUser]
) -> None:
    susan = make_user("susan")

    with statements_seen(app) as seen:
        response = client.post("/api/posts", json={"body": "hello"}, headers=susan.headers)

    assert response.status_code == 201
    # The look-up, on its own; then the writes, all in the transaction (and no more of them).
    assert seen == [
        ("SELECT", False),
        ("UPDATE", True),
        ("INSERT", True),
        ("INSERT", True),
    ]


@sqlite_only
def test_a_writer_checks_its_token_and_its_post_while_another_holds_the_write_lock(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., ApiUser],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    susan = make_user("susan")
    detected = threading.Event()

    def detect_and_tell(text: str) -> str | None:
        language = detect_language(text)
        detected.set()
        return language

    monkeypatch.setattr(services, "detect_language", detect_and_tell)
    answers: list[TestResponse] = []
    with _write_lock_held(app):
        writer = threading.Thread(
            target=lambda: answers.append(
                client.post("/api/posts", json={"body": GERMAN}, headers=susan.headers)
            )
        )
        writer.start()
        # Authenticated, checked and its language detected while the lock is someone else's;
        # only then does it wait, for its first write.
        assert detected.wait(WAIT)
        assert writer.is_alive() and not answers
    writer.join(WAIT)

    assert [answer.status_code for answer in answers] == [201]
    assert answers[0].json is not None and answers[0].json["language"] == "de"


@sqlite_only
def test_a_writer_refused_before_its_first_write_never_waits_for_the_lock(
    app: Flask, client: FlaskClient, make_user: Callable[..., ApiUser]
) -> None:
    susan = make_user("susan")

    with _write_lock_held(app):
        # Authenticated and refused (an empty body) while another writer holds the lock.
        refused = client.post("/api/posts", json={"body": "   "}, headers=susan.headers)
        # The connection it used carries no owed lock into the next request, a reader.
        read = client.get("/api/posts", headers=susan.headers)

    assert refused.status_code == 400
    assert read.status_code == 200
