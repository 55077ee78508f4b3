"""An account deletion racing a follow of, a message to or a post by the person deleted.

Either the other write comes first and the deletion waits for it, then uncounts it; or the
deletion comes first and the other write waits, then finds no such user: a 4xx, never a 500,
and never a counter out of step. The two orders are forced with two sessions (one holds its
transaction open while the other is started in a thread), on both backends: PostgreSQL's row
locks decide there, SQLite's one writer at a time here. Then the doors, raced for real.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from microblog.accounts.deletion import delete_account
from microblog.accounts.models import User
from microblog.accounts.services import no_such_user
from microblog.db import write_intent
from microblog.errors import DomainError, Invalid, NotFound
from microblog.extensions import db
from microblog.messaging.services import send_message
from microblog.posts.services import create_post
from microblog.social.models import Follow
from microblog.social.services import follow
from tests.accounts.deletion_support import counters_out_of_step, rows_of
from tests.api.api_helpers import PASSWORD, insert_users, token_for

# Long enough for the other session to reach the lock it waits on.
SETTLE = 0.3
Write = Callable[[Session, int, int], Any]


def follow_her(session: Session, bob_id: int, susan_id: int) -> Any:
    return follow(session, session.get_one(User, bob_id), susan_id)


def message_her(session: Session, bob_id: int, susan_id: int) -> Any:
    return send_message(session, session.get_one(User, bob_id), susan_id, "are you there?")


def post_as_her(session: Session, _bob_id: int, susan_id: int) -> Any:
    # On SQLite this session waits for the deletion before it reads anything at all.
    author = session.get(User, susan_id)
    if author is None:
        raise no_such_user(susan_id)
    return create_post(session, author, "one more thing")


# Each write, and how it is refused once the deletion has won.
WRITES: dict[str, tuple[Write, type[DomainError]]] = {
    "follow-of-her": (follow_her, NotFound),
    "message-to-her": (message_her, Invalid),
    "post-by-her": (post_as_her, NotFound),
}


@pytest.fixture
def engine(app: Flask) -> Iterator[sa.Engine]:
    with app.app_context():
        yield db.engine


@pytest.fixture
def people(app: Flask) -> tuple[int, int]:
    """susan (to be deleted, with a post and a follower) and bob, who follows her."""
    susan, bob, carol = insert_users(app, ["susan", "bob", "carol"])
    with app.app_context(), write_intent():
        create_post(db.session, db.session.get_one(User, susan), "hello")
        follow(db.session, db.session.get_one(User, carol), susan)
        db.session.commit()
    return susan, bob


def in_thread(
    engine: sa.Engine, work: Callable[[Session], Any]
) -> tuple[threading.Thread, list[Any]]:
    """Run `work` in a session of its own in a thread, committing; its outcome lands in the
    list returned: the result, or the domain error raised."""
    outcome: list[Any] = []

    def run() -> None:
        with write_intent(), Session(engine) as session:
            try:
                outcome.append(work(session))
                session.commit()
            except DomainError as error:
                session.rollback()
                outcome.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def second_waits_for_first(
    engine: sa.Engine, first: Callable[[Session], Any], second: Callable[[Session], Any]
) -> list[Any]:
    """Do `first` in a transaction held open, start `second` in a thread and see that it waits,
    then commit `first`: what `second` came to."""
    with write_intent(), Session(engine) as holding:
        first(holding)
        thread, outcome = in_thread(engine, second)
        time.sleep(SETTLE)
        assert thread.is_alive(), f"the second did not wait for the first: {outcome}"
        holding.commit()
    thread.join(timeout=30)
    return outcome


def assert_gone_and_uncounted(app: Flask, user_id: int) -> None:
    """No row refers to the user any more, and every counter equals the rows it counts."""
    left = rows_of(app, user_id)
    assert left == dict.fromkeys(left, 0)
    assert counters_out_of_step(app) == []


def deletion_of(user_id: int) -> Callable[[Session], None]:
    return lambda session: delete_account(session, session.get_one(User, user_id), PASSWORD)


@pytest.mark.parametrize("first", ["deletion", "write"])
@pytest.mark.parametrize("name", WRITES)
def test_whichever_comes_first_the_other_waits_then_ends_cleanly(
    app: Flask, engine: sa.Engine, people: tuple[int, int], name: str, first: str
) -> None:
    """The deletion first: the write then finds no such user (a 4xx). The write first: the
    deletion then finds its row, and uncounts it with the rest."""
    susan, bob = people
    write, refusal = WRITES[name]
    writing = lambda session: write(session, bob, susan)  # noqa: E731

    if first == "deletion":
        [error] = second_waits_for_first(engine, deletion_of(susan), writing)
        assert isinstance(error, refusal), error
    else:
        assert second_waits_for_first(engine, writing, deletion_of(susan)) == [None]

    assert_gone_and_uncounted(app, susan)


# --- through the doors -----------------------------------------------------------------------

ROUNDS = 8
# What each racer may be answered: before the deletion, or after it (token gone, user gone).
ALLOWED = {
    "delete": {204},
    "follow": {204, 404},
    "message": {201, 400},
    "post": {201, 401, 404},
}


def racers(
    victim: int, theirs: dict[str, str], bobs: dict[str, str], carols: dict[str, str]
) -> dict[str, Callable[[FlaskClient], Any]]:
    """The victim deletes their account and writes a post; bob follows them, carol writes."""
    message = {"recipient_id": victim, "body": "hi"}
    return {
        "delete": lambda c: c.delete("/api/me", json={"password": PASSWORD}, headers=theirs),
        "follow": lambda c: c.post(f"/api/me/following/{victim}", headers=bobs),
        "message": lambda c: c.post("/api/messages", json=message, headers=carols),
        "post": lambda c: c.post("/api/posts", json={"body": "racing"}, headers=theirs),
    }


def race(app: Flask, requests: dict[str, Callable[[FlaskClient], Any]]) -> list[tuple[str, int]]:
    """Send every request at once, each from a thread of its own; (label, status) of each."""
    start = threading.Barrier(len(requests))
    answers: list[tuple[str, int]] = []

    def send(label: str, request: Callable[[FlaskClient], Any]) -> None:
        racer = app.test_client()
        start.wait()
        answers.append((label, request(racer).status_code))

    threads = [threading.Thread(target=send, args=item) for item in requests.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


def test_racing_requests_end_in_success_or_a_4xx_and_the_counters_hold(
    app: Flask, client: FlaskClient, backend: str
) -> None:
    insert_users(app, ["bob", "carol"])
    bobs, carols = token_for(client, "bob"), token_for(client, "carol")
    answers: Counter[tuple[str, int]] = Counter()
    for round_ in range(ROUNDS):
        name = f"victim{round_}"
        [victim] = insert_users(app, [name])
        assert client.post(f"/api/me/following/{victim}", headers=carols).status_code == 204
        answers.update(race(app, racers(victim, token_for(client, name), bobs, carols)))

    print(f"\n[{backend}] {ROUNDS} rounds: {dict(sorted(answers.items()))}")
    unexpected = {key: n for key, n in answers.items() if key[1] not in ALLOWED[key[0]]}
    assert not unexpected, answers
    assert sum(answers.values()) == ROUNDS * len(ALLOWED)
    assert counters_out_of_step(app) == []
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Follow)) == 0
