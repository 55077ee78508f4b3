"""A request that only reads runs its statements in autocommit (no BEGIN, no COMMIT: on
PostgreSQL two round trips saved); one that writes keeps its single transaction (on SQLite
begun with BEGIN IMMEDIATE)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from microblog.extensions import db
from tests.support import ApiUser


@contextlib.contextmanager
def _autocommit_seen(app: Flask) -> Iterator[list[bool]]:
    """Whether each statement ran on a connection in autocommit."""
    seen: list[bool] = []

    def record(_conn: Any, cursor: Any, *_args: Any) -> None:
        seen.append(bool(cursor.connection.autocommit))

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


postgres_only = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
sqlite_only = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


@contextlib.contextmanager
def _statements_sent(app: Flask) -> Iterator[list[str]]:
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(
            statement.split()[0].upper() + (" IMMEDIATE" if "IMMEDIATE" in statement else "")
        )

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


@sqlite_only
def test_on_sqlite_a_read_sends_no_begin(
    app: Flask, client: FlaskClient, make_user: Callable[..., ApiUser]
) -> None:
    # (How a writer takes the write lock: tests/test_write_lock.py.)
    susan = make_user("susan")

    with _statements_sent(app) as read:
        assert client.get("/api/feed", headers=susan.headers).status_code == 200

    assert read and all(statement == "SELECT" for statement in read)


@postgres_only
def test_a_read_runs_in_autocommit(
    app: Flask, client: FlaskClient, make_user: Callable[..., ApiUser]
) -> None:
    susan = make_user("susan")

    with _autocommit_seen(app) as seen:
        assert client.get("/api/feed", headers=susan.headers).status_code == 200

    assert seen and all(seen)


@postgres_only
def test_a_write_keeps_one_transaction(
    app: Flask, client: FlaskClient, make_user: Callable[..., ApiUser]
) -> None:
    susan = make_user("susan")

    with _autocommit_seen(app) as seen:
        response = client.post("/api/posts", json={"body": "hello"}, headers=susan.headers)

    assert response.status_code == 201
    assert seen and not any(seen)


@postgres_only
def test_reading_the_inbox_which_marks_it_read_keeps_one_transaction(
    app: Flask, client: FlaskClient, make_user: Callable[..., ApiUser]
) -> None:
    susan, bob = make_user("susan"), make_user("bob")
    client.post("/api/messages", json={"recipient_id": susan.id, "body": "hi"}, headers=bob.headers)

    with _autocommit_seen(app) as seen:
        assert client.get("/api/messages", headers=susan.headers).status_code == 200

    assert seen and not any(seen)


def test_outside_a_request_sessions_stay_transactional(app: Flask) -> None:
    with app.app_context():
        connection = db.session.connection()
        assert connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT"
        db.session.rollback()
