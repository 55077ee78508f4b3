"""What each task name runs: the job behind a task, looked up when an executor runs it."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import select

from microblog.extensions import db
from microblog.tasks.exports import run_export
from microblog.tasks.models import Task
from microblog.tasks.services import TASK_NAMES, fail_task

log = logging.getLogger(__name__)

JOBS: dict[str, Callable[[str], None]] = {"export_posts": run_export}
assert set(JOBS) == set(TASK_NAMES), "every task a user may start needs a job"


def run_task(task_id: str) -> None:
    """Run the job of a task (in an application context; the job commits).

    A task goes with its user's account: one deleted before its job starts is not run (a job
    whose task goes while it runs ends quietly too: see `exports.run_export`).
    """
    name = _name_of(task_id)
    if name is None:
        log.info("task %s is gone (its user deleted their account); nothing to run", task_id)
        return
    job = JOBS.get(name)
    if job is None:
        log.error("task %s names %r, which has no job", task_id, name)
        fail_task(db.session, task_id, f"there is no job named {name!r}")
        db.session.commit()
        return
    job(task_id)


def _name_of(task_id: str) -> str | None:
    return db.session.scalar(select(Task.name).where(Task.id == task_id))
