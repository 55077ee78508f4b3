"""An export job whose user deletes their account: before it starts, or while it runs. The task
goes with the account; the job ends there, with nothing raised and nothing left behind."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from microblog.accounts.deletion import delete_account
from microblog.accounts.models import User
from microblog.db import write_intent
from microblog.extensions import db
from microblog.tasks.jobs import run_task
from microblog.tasks.models import Task
from microblog.tasks.services import start_task
from tests.accounts.deletion_support import rows_of
from tests.api.api_helpers import PASSWORD, insert_users
from tests.tasks.task_support import insert_posts


class Submitted:
    """An executor that runs nothing: the test runs the job itself, when it chooses."""

    def __init__(self) -> None:
        self.task_ids: list[str] = []

    def submit(self, task_id: str) -> None:
        self.task_ids.append(task_id)

    def call(self, job: str, *args: str) -> None:
        raise AssertionError(f"nothing here calls {job}")


@pytest.fixture
def export(app: Flask) -> Iterator[tuple[int, str]]:
    """susan, with three posts and an export started but not yet run: (her id, the task id)."""
    [susan] = insert_users(app, ["susan"])
    insert_posts(app, susan, 3)
    executor = Submitted()
    with app.app_context(), write_intent():
        task = start_task(db.session, db.session.get_one(User, susan), "export_posts", executor)
        task_id = task.id
        db.session.commit()
    assert executor.task_ids == [task_id]
    yield susan, task_id


def delete_susan(app: Flask, susan: int) -> None:
    with app.app_context():
        engine = db.engine
    with write_intent(), Session(engine) as session:
        delete_account(session, session.get_one(User, susan), PASSWORD)
        session.commit()


def run_job(app: Flask, task_id: str) -> None:
    with app.app_context(), write_intent():
        run_task(task_id)


def test_a_task_deleted_with_its_account_before_its_job_starts_is_not_run(
    app: Flask, export: tuple[int, str], caplog: pytest.LogCaptureFixture
) -> None:
    susan, task_id = export
    delete_susan(app, susan)
    caplog.set_level(logging.INFO, logger="microblog.tasks.jobs")

    run_job(app, task_id)

    assert f"task {task_id} is gone" in caplog.text
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]


def test_an_export_whose_account_is_deleted_while_it_runs_stops_there(
    app: Flask,
    export: tuple[int, str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    susan, task_id = export
    app.config["EXPORT_BATCH_SIZE"] = 1  # a commit after each post: the account goes after one
    commit = db.session.commit
    deleted: list[bool] = []

    def commit_then_delete_the_account(*args: Any) -> Any:
        done = commit(*args)
        if not deleted:
            deleted.append(True)
            delete_susan(app, susan)
        return done

    monkeypatch.setattr(db.session, "commit", commit_then_delete_the_account)
    caplog.set_level(logging.INFO, logger="microblog.tasks")

    run_job(app, task_id)  # raises nothing

    assert deleted == [True]
    assert f"export task {task_id} is gone with its user's account" in caplog.text
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert rows_of(app, susan) == dict.fromkeys(rows_of(app, susan), 0)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Task)) == 0


def test_an_export_failing_for_another_reason_still_raises(
    app: Flask, export: tuple[int, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The quiet ending is for a task that is gone, not for every failure."""
    _susan, task_id = export

    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("the export broke")

    monkeypatch.setattr("microblog.tasks.exports._report", broken)
    app.config["EXPORT_BATCH_SIZE"] = 1

    with pytest.raises(RuntimeError, match="the export broke"):
        run_job(app, task_id)
