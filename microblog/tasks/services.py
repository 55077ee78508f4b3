"""Starting background tasks and reading them back, each user seeing only their own.

A task is started in the caller's transaction and handed to an executor only once that
transaction commits, so a job never looks for a row that is not there yet, and a task whose
transaction rolled back never runs.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Protocol

from flask import current_app
from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from microblog.accounts.models import User
from microblog.db import Db, after_commit, utcnow
from microblog.errors import N_, Conflict, Gone, Invalid, NotFound
from microblog.tasks.models import Task, TaskResult

# What a user may start. Each name has a job in microblog/tasks/jobs.py, and says in its own
# words that one is running already (a translation can then call it what the reader would).
ALREADY_RUNNING = {
    "export_posts": N_("an export_posts task is already running; wait until it is complete"),
}
TASK_NAMES = tuple(ALREADY_RUNNING)

# A task still running after this long lost its job (a worker or server that died): it no
# longer stops the user from starting another. Longer than any job is allowed to run.
ABANDONED_AFTER = timedelta(hours=1)
ABANDONED = "the task was abandoned (its worker stopped); start it again"

# How many tasks of one name a user may start in STARTS_WINDOW. An export reads every post
# the user wrote: one at a time is not enough of a limit when each takes a second.
STARTS_ALLOWED = 5
STARTS_WINDOW = timedelta(hours=1)  # the refusal says "per hour": change both together
# One template per plural form of the minutes. English and Spanish, the site's languages, share
# the rule (one is singular, any other number plural); another rule would need ngettext.
TOO_OFTEN = (
    N_("you may start %(allowed)s %(name)s tasks per hour; try again in %(minutes)s minute"),
    N_("you may start %(allowed)s %(name)s tasks per hour; try again in %(minutes)s minutes"),
)


class Executor(Protocol):
    """Runs work somewhere else (a thread, a worker process) some time soon."""

    def submit(self, task_id: str) -> None:
        """Run the job of a task."""

    def call(self, job: str, *args: str) -> None:
        """Call the function named `job` (a dotted path) with `args`, in an app context: work
        a request must not wait for, or be seen to wait for (mailing a reset link)."""


def start_task(session: Db, user: User, name: str, executor: Executor) -> Task:
    """Start `name` for `user`: one of each at a time; the job is submitted after the commit."""
    if name not in TASK_NAMES:
        raise Invalid("name", N_("name must be one of: %(names)s"), names=", ".join(TASK_NAMES))
    _give_up_abandoned(session, user.id, name)
    running = select(Task.id).where(Task.user_id == user.id, Task.name == name, ~Task.complete)
    if session.scalar(running.limit(1)) is not None:
        raise _already_running(name)
    _ensure_not_too_often(session, user.id, name)
    task = Task(user_id=user.id, name=name)
    try:
        # The pre-check misses a concurrent start; the unique index does not.
        with session.begin_nested():
            session.add(task)
    except IntegrityError:
        raise _already_running(name) from None
    task_id = task.id
    after_commit(session, lambda: executor.submit(task_id))
    return task


def _already_running(name: str) -> Conflict:
    return Conflict(ALREADY_RUNNING[name])


def _ensure_not_too_often(session: Db, user_id: int, name: str) -> None:
    """Refuse a start past STARTS_ALLOWED in the last STARTS_WINDOW, saying when to retry."""
    now = utcnow()
    count, oldest = session.execute(
        select(func.count(), func.min(Task.created_at)).where(
            Task.user_id == user_id, Task.name == name, Task.created_at > now - STARTS_WINDOW
        )
    ).one()
    if count < STARTS_ALLOWED:
        return
    minutes = _minutes_until(oldest + STARTS_WINDOW, now)
    template = TOO_OFTEN[0] if minutes == 1 else TOO_OFTEN[1]
    raise Conflict(template, allowed=STARTS_ALLOWED, name=name, minutes=minutes)


def _minutes_until(moment: datetime, now: datetime) -> int:
    return max(1, math.ceil((moment - now).total_seconds() / 60))


def _give_up_abandoned(session: Db, user_id: int, name: str) -> None:
    now = utcnow()
    session.execute(
        update(Task)
        .where(
            Task.user_id == user_id,
            Task.name == name,
            ~Task.complete,
            Task.created_at < now - ABANDONED_AFTER,
        )
        .values(complete=True, error=ABANDONED, finished_at=now)
        .execution_options(synchronize_session=False)
    )


def get_task(session: Db, user: User, task_id: str) -> Task:
    """The user's task; another user's is as absent as one that does not exist."""
    task = session.get(Task, task_id)
    if task is None or task.user_id != user.id:
        raise NotFound(N_("no task %(task_id)s"), task_id=task_id)
    return task


def task_result(session: Db, user: User, task_id: str) -> str:
    """The result (JSON text) of the user's complete task, until it expires."""
    task = get_task(session, user, task_id)
    if not task.complete:
        raise Conflict(N_("the task is not complete yet"))
    expires_at = result_expires_at(task)
    if expires_at is None:
        raise Conflict(N_("the task failed and has no result: %(error)s"), error=str(task.error))
    result = None
    if expires_at > utcnow():
        result = session.scalar(select(TaskResult.body).where(TaskResult.task_id == task.id))
    if result is None:
        # Expired, whether or not `expire_results` has removed it yet.
        raise Gone(
            N_("the result of this task expired at %(expired_at)s; start the task again"),
            expired_at=expires_at.isoformat(timespec="seconds"),
        )
    return result


def result_ttl() -> timedelta:
    """How long a finished task's result is kept (EXPORT_RESULT_TTL)."""
    ttl: timedelta = current_app.config["EXPORT_RESULT_TTL"]
    return ttl


def result_expires_at(task: Task) -> datetime | None:
    """When the task's result expires; None if it has none (running, or failed)."""
    if not task.has_result or task.finished_at is None:
        return None
    return task.finished_at + result_ttl()


def result_available(task: Task) -> bool:
    """Whether the task's result may be fetched: there is one, and it has not expired."""
    expires_at = result_expires_at(task)
    return expires_at is not None and expires_at > utcnow()


def expire_results(session: Db) -> int:
    """Remove every result older than EXPORT_RESULT_TTL (flushes); how many were removed.

    Run by each export job before it stores its own result, and by `microblog
    expire-results`: results only accumulate as exports run, so they never pile up.
    """
    expired = select(Task.id).where(Task.finished_at < utcnow() - result_ttl())
    removed = session.execute(
        delete(TaskResult)
        .where(TaskResult.task_id.in_(expired))
        .execution_options(synchronize_session=False)
    )
    return int(getattr(removed, "rowcount", 0) or 0)


def tasks_of(user_id: int) -> Select[Task]:
    """The user's tasks, newest first (never their results: see `TaskResult`)."""
    return select(Task).where(Task.user_id == user_id).order_by(Task.created_at.desc(), Task.id)


def task_count(session: Db, user_id: int) -> int:
    """How many tasks the user has (from the index on user_id)."""
    count = session.scalar(select(func.count()).select_from(Task).where(Task.user_id == user_id))
    return count or 0


def fail_task(session: Db, task_id: str, message: str) -> None:
    """Mark a task that has not finished as failed with `message` (flushes)."""
    session.execute(
        update(Task)
        .where(Task.id == task_id, ~Task.complete)
        .values(complete=True, error=message, finished_at=utcnow())
        .execution_options(synchronize_session=False)
    )
