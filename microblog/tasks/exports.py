"""The export_posts job: all of a user's posts, oldest first, as one JSON document.

The job is its own transaction boundary. It reads the posts in batches (keyset by id) and
commits the progress after each batch, so a client polling the task sees it move; then it
stores the document on the task, and finally mails it to the user. Whatever goes wrong, the
task ends complete with an error: never running for ever. Runs in an application context with
a session of its own (the executors provide both).
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from flask import current_app
from sqlalchemy import select

from microblog.accounts.models import User
from microblog.db import Db, utcnow
from microblog.extensions import db
from microblog.mail import Attachment, send_email
from microblog.messaging.notifications import notify
from microblog.posts.models import Post
from microblog.tasks.models import Task, TaskResult
from microblog.tasks.services import expire_results, fail_task

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 500
FAILED = "the export failed; please try again later"


def run_export(task_id: str) -> None:
    """Export the posts of the task's user into the task's result, then mail them."""
    session = db.session
    task = session.get(Task, task_id)
    if task is None or task.complete:
        log.warning("task %s is gone or already complete; nothing to export", task_id)
        return
    user_id = task.user_id
    try:
        batch_size = int(current_app.config.get("EXPORT_BATCH_SIZE", DEFAULT_BATCH_SIZE))
        if batch_size < 1:
            raise ValueError(f"EXPORT_BATCH_SIZE must be at least 1, not {batch_size}")
        user = session.get_one(User, user_id)
        recipient, username = user.email, user.username
        _expire_old_results(session)
        document = export_posts(session, task, user, batch_size)
    except Exception:
        session.rollback()
        if session.get(Task, task_id) is None:
            # Deleted with its user's account while it ran: no one is left to tell or to fail.
            log.info("export task %s is gone with its user's account; stopped", task_id)
            return
        log.exception("export task %s failed", task_id)
        fail_task(session, task_id, FAILED)
        _report(session, task_id, user_id, None, complete=True)
        session.commit()
        return
    _mail(recipient, username, document)


def export_posts(session: Db, task: Task, user: User, batch_size: int) -> bytes:
    """Build the document batch by batch, committing progress; store it and commit."""
    task_id, user_id, username = task.id, user.id, user.username
    # The counter is the total to expect; posts written meanwhile may pass it, hence the cap.
    expected = max(user.post_count, 1)
    posts: list[dict[str, Any]] = []
    after_id = 0
    while True:
        rows = session.execute(
            select(Post.id, Post.body, Post.timestamp, Post.language)
            .where(Post.user_id == user_id, Post.id > after_id)
            .order_by(Post.id)
            .limit(batch_size)
        ).all()
        posts.extend(
            {
                "id": row.id,
                "body": row.body,
                "timestamp": row.timestamp.isoformat(),
                "language": row.language,
            }
            for row in rows
        )
        if len(rows) < batch_size:
            break
        after_id = rows[-1].id
        _report(session, task_id, user_id, min(99, len(posts) * 100 // expected))
        session.commit()

    now = utcnow()
    document = orjson.dumps(
        {
            "user": {"id": user_id, "username": username},
            "exported_at": now.isoformat(),
            "posts": posts,
        }
    )
    session.add(TaskResult(task_id=task_id, body=document.decode()))
    task.complete = True
    task.finished_at = now
    _report(session, task_id, user_id, 100, complete=True)
    session.commit()
    return document


def _expire_old_results(session: Db) -> None:
    """Remove every user's expired results before storing one more (commits)."""
    removed = expire_results(session)
    session.commit()
    if removed:
        log.info("removed %d expired export results", removed)


def _report(
    session: Db, task_id: str, user_id: int, progress: int | None, *, complete: bool = False
) -> None:
    """Move the task's progress (None: leave it) and tell the user (flushes)."""
    task = session.get_one(Task, task_id)
    if progress is not None:
        task.progress = progress
    session.flush()
    notify(
        session,
        user_id,
        "task_progress",
        {"task_id": task_id, "progress": task.progress, "complete": complete},
    )


def _mail(recipient: str, username: str, document: bytes) -> None:
    """Mail the export as an attachment; a failure is logged (the export itself is done)."""
    try:
        send_email(
            recipient,
            "Your Microblog posts",
            f"Hello {username},\n\nYour posts are attached as JSON, oldest first.\n",
            attachments=[
                Attachment(f"microblog-posts-{username}.json", "application/json", document)
            ],
        )
    except Exception:
        log.exception("the export for %s is complete but could not be mailed", username)
