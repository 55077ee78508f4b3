"""Two people claiming the same username or email at once.

The unique constraints keep the names unique whatever the order; the one who loses is told
which name is taken (on the API a 400 naming the field, or a 409 when the other claimed it
while this one was writing it; a form error on the site), never a 500.
The order is forced with two sessions (one holds its transaction open while the other is
started in a thread), on both backends; then the doors are raced for real.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from microblog.accounts.models import User
from microblog.accounts.services import TAKEN_MESSAGES, update_user
from microblog.errors import ClaimedMeanwhile, Invalid
from microblog.extensions import db
from microblog.tasks.executors import executor_of
from tests.accounts.test_account_deletion_races import engine, second_waits_for_first
from tests.api.api_helpers import PASSWORD, insert_users, token_for

__all__ = ["engine"]  # the fixture, shared with the deletion races

NEW_NAMES = {"username": "winner", "email": "winner@example.com"}


def renaming(app: Flask, user_id: int, field: str) -> Callable[[Session], Any]:
    """A rename, as a door asks for it (a new address needs the password, and its notice an
    executor, which runs nothing before a commit this test never makes)."""

    def rename(session: Session) -> Any:
        user = session.get_one(User, user_id)
        confirmation = {"old_password": PASSWORD} if field == "email" else {}
        return update_user(
            session,
            user,
            executor=executor_of(app),
            **{field: NEW_NAMES[field]},
            **confirmation,
        )

    return rename


def holders_of(app: Flask, field: str, value: str) -> list[int]:
    with app.app_context():
        column = getattr(User, field)
        return list(db.session.scalars(sa.select(User.id).where(column == value)))


@pytest.mark.parametrize("field", ["username", "email"])
def test_a_rename_to_a_name_claimed_meanwhile_is_refused_naming_the_field(
    app: Flask, engine: sa.Engine, backend: str, field: str
) -> None:
    bob, carol = insert_users(app, ["bob", "carol"])

    [error] = second_waits_for_first(engine, renaming(app, bob, field), renaming(app, carol, field))

    assert isinstance(error, Invalid), error
    assert error.field == field
    assert error.message == TAKEN_MESSAGES[field]
    # PostgreSQL's second writer passed the check and met the first one's claim at the
    # constraint: a conflict. SQLite's waited for the lock and found the name taken.
    assert isinstance(error, ClaimedMeanwhile) == (backend == "postgresql")
    assert holders_of(app, field, NEW_NAMES[field]) == [bob]


ROUNDS = 6


def race(app: Flask, requests: dict[str, Callable[[FlaskClient], Any]]) -> list[Any]:
    """Send every request at once, each from a thread of its own: (status, error message)."""
    start = threading.Barrier(len(requests))
    answers: list[tuple[int, str | None]] = []

    def send(request: Callable[[FlaskClient], Any]) -> None:
        racer = app.test_client()
        start.wait()
        answer = request(racer)
        answers.append((answer.status_code, (answer.json or {}).get("message")))

    threads = [threading.Thread(target=send, args=(request,)) for request in requests.values()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


@pytest.mark.parametrize("field", ["username", "email"])
def test_racing_renames_to_one_name_end_in_one_200_and_4xx_naming_the_field(
    app: Flask, client: FlaskClient, field: str
) -> None:
    answers: Counter[tuple[int, str | None]] = Counter()
    for round_ in range(ROUNDS):
        names = [f"r{round_}p{n}" for n in range(3)]
        ids = insert_users(app, names)
        headers = {name: token_for(client, name) for name in names}
        new = {
            field: f"{NEW_NAMES[field].split('@')[0]}{round_}"
            + ("@example.com" if field == "email" else "")
        }
        if field == "email":
            new["old_password"] = PASSWORD
        requests = {
            name: (
                lambda c, i=i, h=headers[name], n=new: c.put(f"/api/users/{i}", json=n, headers=h)
            )
            for name, i in zip(names, ids, strict=True)
        }
        answers.update(race(app, requests))
        assert holders_of(app, field, new[field]) != []
    print(f"\n{field}: {dict(answers)}")
    # A loser is told the name is taken: 400 if it was when the request looked, 409 if another
    # request claimed it while this one was writing it.
    refused = {(status, message) for status, message in answers if status != 200}
    assert answers[(200, None)] == ROUNDS
    assert refused <= {(400, TAKEN_MESSAGES[field]), (409, TAKEN_MESSAGES[field])}
    assert answers.total() == 3 * ROUNDS
