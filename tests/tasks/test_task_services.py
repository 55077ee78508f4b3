"""Starting tasks: handed to the executor only after the commit, and one export at a time."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from redis import Redis
from rq import Queue
from sqlalchemy.orm import Session

from microblog.accounts.models import User
from microblog.db import utcnow, write_intent
from microblog.errors import Conflict, Invalid
from microblog.extensions import db
from microblog.tasks.executors import executor_of
from microblog.tasks.models import Task
from microblog.tasks.services import ABANDONED, start_task
from tests.support import ApiUser


def test_a_task_is_queued_only_when_its_transaction_commits_and_never_if_it_rolls_back(
    make_other_app: Callable[..., Flask],
    make_user: Callable[..., ApiUser],
    redis_url: str,
    queue_name: str,
) -> None:
    susan = make_user("susan")
    queued = make_other_app(REDIS_URL=redis_url, TASK_QUEUE=queue_name)
    queue = Queue(queue_name, connection=Redis.from_url(redis_url))
    with queued.app_context(), write_intent():
        user = db.session.get_one(User, susan.id)
        doomed = start_task(db.session, user, "export_posts", executor_of(queued))
        doomed_id = doomed.id
        db.session.rollback()
        db.session.commit()  # a later commit does not bring it back
        assert queue.count == 0

        user = db.session.get_one(User, susan.id)
        task = start_task(db.session, user, "export_posts", executor_of(queued))
        assert queue.count == 0, "not before the commit"
        db.session.commit()
        assert queue.job_ids == [task.id]
        assert doomed_id != task.id
        assert db.session.get(Task, doomed_id) is None


def test_of_two_concurrent_starts_exactly_one_succeeds_and_the_loser_can_go_on(
    make_other_app: Callable[..., Flask],
    make_user: Callable[..., ApiUser],
    backend: str,
    redis_url: str,
    queue_name: str,
) -> None:
    """On PostgreSQL the loser passes the pre-check and meets the unique index in a savepoint.

    The jobs wait in a queue no worker serves, so the winner is still running when the loser
    looks (a thread would finish an export of no posts at once).
    """
    susan = make_user("susan")
    app = make_other_app(REDIS_URL=redis_url, TASK_QUEUE=queue_name)
    executor = executor_of(app)
    outcome: list[str] = []

    def second_start() -> None:
        with app.app_context(), write_intent(), Session(db.engine) as session:
            try:
                start_task(session, session.get_one(User, susan.id), "export_posts", executor)
                outcome.append("started")
            except Conflict:
                # The transaction is still usable: the failed insert was only a savepoint.
                session.scalar(sa.select(sa.func.count()).select_from(Task))
                session.commit()
                outcome.append("conflict")

    with app.app_context(), write_intent(), Session(db.engine) as first:
        start_task(first, first.get_one(User, susan.id), "export_posts", executor)
        racer = threading.Thread(target=second_start)
        racer.start()
        _wait_until_blocked(first, backend)
        first.commit()
    racer.join(timeout=60)

    assert outcome == ["conflict"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Task)) == 1


def _wait_until_blocked(session: Session, backend: str) -> None:
    """Until another connection waits on a lock (PostgreSQL), or a while (SQLite's busy wait)."""
    if backend != "postgresql":
        time.sleep(0.3)
        return
    engine = session.get_bind()
    deadline = time.monotonic() + 30
    with engine.connect() as watcher:
        while time.monotonic() < deadline:
            waiting = watcher.scalar(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
            watcher.rollback()
            if waiting:
                return
            time.sleep(0.01)
    pytest.fail("the second start never waited on the first one's row")


def test_a_task_left_running_by_a_dead_worker_no_longer_blocks_a_new_one(
    app: Flask, make_user: Callable[..., ApiUser]
) -> None:
    susan = make_user("susan")
    with app.app_context(), write_intent():
        stale = Task(
            user_id=susan.id, name="export_posts", created_at=utcnow() - timedelta(hours=2)
        )
        db.session.add(stale)
        db.session.commit()
        stale_id = stale.id

        user = db.session.get_one(User, susan.id)
        fresh = start_task(db.session, user, "export_posts", executor_of(app))
        db.session.commit()

        old = db.session.get_one(Task, stale_id)
        assert old.complete and old.error == ABANDONED and old.finished_at is not None
        assert fresh.id != stale_id


def test_a_recent_running_task_still_blocks(app: Flask, make_user: Callable[..., ApiUser]) -> None:
    susan = make_user("susan")
    with app.app_context(), write_intent():
        db.session.add(
            Task(user_id=susan.id, name="export_posts", created_at=utcnow() - timedelta(minutes=5))
        )
        db.session.commit()
        user = db.session.get_one(User, susan.id)
        with pytest.raises(Conflict, match="already running"):
            start_task(db.session, user, "export_posts", executor_of(app))


def test_only_known_task_names_can_be_started(
    app: Flask, make_user: Callable[..., ApiUser]
) -> None:
    susan = make_user("susan")
    with app.app_context(), write_intent():
        user = db.session.get_one(User, susan.id)
        with pytest.raises(Invalid) as raised:
            start_task(db.session, user, "export_followers", executor_of(app))
        assert raised.value.field == "name"
