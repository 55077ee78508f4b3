"""`after_commit`: work outside the database happens only once the transaction is durable."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from microblog.accounts.models import User
from microblog.db import after_commit, write_intent
from microblog.extensions import db


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    with app.app_context(), write_intent(), Session(db.engine) as session:
        yield session


def _add_user(session: Session, name: str) -> None:
    session.add(User(username=name, email=f"{name}@example.com", password_hash="x"))
    session.flush()


def _users_seen_by_another_connection(session: Session) -> list[str]:
    engine = session.get_bind()
    with engine.connect() as other:
        return list(other.scalars(sa.select(User.username).order_by(User.username)))


def test_a_callback_runs_once_after_the_commit_when_others_can_see_the_change(
    session: Session,
) -> None:
    seen: list[list[str]] = []
    _add_user(session, "susan")
    after_commit(session, lambda: seen.append(_users_seen_by_another_connection(session)))
    assert seen == []

    session.commit()
    assert seen == [["susan"]]

    _add_user(session, "david")
    session.commit()
    assert seen == [["susan"]], "a callback runs once"


def test_a_callback_is_forgotten_when_the_transaction_rolls_back(session: Session) -> None:
    ran: list[str] = []
    _add_user(session, "susan")
    after_commit(session, lambda: ran.append("rolled back"))
    session.rollback()

    _add_user(session, "david")
    after_commit(session, lambda: ran.append("committed"))
    session.commit()

    assert ran == ["committed"]


def test_a_callback_is_forgotten_when_the_session_closes_without_committing(
    session: Session,
) -> None:
    ran: list[str] = []
    _add_user(session, "susan")
    after_commit(session, lambda: ran.append("closed"))
    session.close()

    _add_user(session, "david")
    session.commit()

    assert ran == []


def test_a_savepoint_that_rolls_back_takes_only_its_own_callbacks_with_it(
    session: Session,
) -> None:
    ran: list[str] = []
    _add_user(session, "susan")
    after_commit(session, lambda: ran.append("outer"))
    with pytest.raises(sa.exc.IntegrityError), session.begin_nested():
        after_commit(session, lambda: ran.append("inner"))
        _add_user(session, "SUSAN")  # the same name in another case: unique, so it fails
    with session.begin_nested():
        after_commit(session, lambda: ran.append("released"))
    assert ran == [], "a released savepoint waits for the outer commit"

    session.commit()
    assert ran == ["outer", "released"]


def test_a_failing_callback_is_logged_and_neither_stops_the_others_nor_the_commit(
    session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    ran: list[str] = []

    def fail() -> None:
        raise RuntimeError("the queue is down")

    _add_user(session, "susan")
    after_commit(session, fail)
    after_commit(session, lambda: ran.append("second"))
    with caplog.at_level(logging.ERROR, logger="microblog.db"):
        session.commit()

    assert ran == ["second"]
    assert _users_seen_by_another_connection(session) == ["susan"]
    assert "the queue is down" in caplog.text


def test_the_request_session_runs_callbacks_at_the_request_commit(
    app: Flask, make_user: Callable[..., object]
) -> None:
    ran: list[str] = []
    with app.test_request_context("/", method="POST"), write_intent():
        _add_user(db.session(), "susan")
        after_commit(db.session, lambda: ran.append("after the request"))
        assert ran == []
        db.session.commit()
    assert ran == ["after the request"]
