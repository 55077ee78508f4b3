"""The export job through the thread executor: progress, result, mail, failures."""

from __future__ import annotations

import email
import email.policy
import json
import time
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from microblog.extensions import db
from microblog.messaging.notifications import notifications_for
from microblog.tasks.exports import FAILED
from microblog.tasks.models import Task
from tests.support import ApiUser, stop_jobs
from tests.tasks.task_support import (
    Inbox,
    assert_full_export,
    attachments_of,
    insert_posts,
    smtp_settings,
    start_export,
    wait_for_task,
)

POSTS = 5_000


def test_an_export_of_5000_posts_runs_in_a_thread_showing_progress_and_returns_all_oldest_first(
    app: Flask, client: FlaskClient, make_user: Callable[..., ApiUser]
) -> None:
    app.config["EXPORT_BATCH_SIZE"] = 100  # fifty steps, so a poller sees some of them
    susan = make_user("susan")
    insert_posts(app, susan.id, POSTS)

    started = time.perf_counter()
    task = start_export(client, susan.headers)
    done, seen = wait_for_task(client, susan.headers, task["id"])
    elapsed = time.perf_counter() - started

    assert done["progress"] == 100 and done["error"] is None
    assert any(0 < progress < 100 for progress in seen), seen
    assert seen == sorted(seen), "progress never goes back"
    result = client.get(done["_links"]["result"], headers=susan.headers)
    assert result.status_code == 200
    assert_full_export(result.json, susan.id, "susan", POSTS)
    print(f"\nthread executor: {POSTS} posts exported in {elapsed:.2f} s")


def test_each_step_replaces_the_task_progress_notification_until_the_last_says_complete(
    app: Flask, client: FlaskClient, make_user: Callable[..., ApiUser]
) -> None:
    app.config["EXPORT_BATCH_SIZE"] = 10
    susan = make_user("susan")
    insert_posts(app, susan.id, 55)

    task = start_export(client, susan.headers)
    wait_for_task(client, susan.headers, task["id"])

    with app.app_context():
        notes = db.session.scalars(notifications_for(susan.id)).all()
        assert [(n.name, n.payload) for n in notes] == [
            ("task_progress", {"task_id": task["id"], "progress": 100, "complete": True})
        ]


def test_the_finished_export_is_mailed_to_the_user_with_the_json_attached(
    make_other_app: Callable[..., Flask],
    make_user: Callable[..., ApiUser],
    smtp_server: tuple[str, int, Inbox],
) -> None:
    host, port, inbox = smtp_server
    mailing = make_other_app(
        **smtp_settings(port, host),
        MAIL_DEFAULT_SENDER="exports@microblog.test",
    )
    susan = make_user("susan")
    insert_posts(mailing, susan.id, 120)
    client = mailing.test_client()

    task = start_export(client, susan.headers)
    wait_for_task(client, susan.headers, task["id"])

    [message] = inbox.wait_for(1)
    assert inbox.recipients == [["susan@example.com"]]
    assert message["To"] == "susan@example.com"
    assert message["From"] == "exports@microblog.test"
    assert "posts" in message["Subject"].lower()
    [(filename, (content_type, data))] = attachments_of(message).items()
    assert filename == "microblog-posts-susan.json"
    assert content_type == "application/json"
    assert_full_export(json.loads(data), susan.id, "susan", 120)
    assert not (Path(mailing.instance_path) / "mail").exists()


def test_without_a_mail_server_the_mail_is_written_to_the_instance_folder(
    app: Flask, client: FlaskClient, make_user: Callable[..., ApiUser]
) -> None:
    assert app.config["MAIL_SERVER"] is None
    susan = make_user("susan")
    insert_posts(app, susan.id, 30)

    task = start_export(client, susan.headers)
    wait_for_task(client, susan.headers, task["id"])
    stop_jobs(app)  # the mail goes out after the task is marked complete

    [path] = (Path(app.instance_path) / "mail").glob("*.eml")
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert message["To"] == "susan@example.com"
    [(_, data)] = attachments_of(message).values()
    assert_full_export(json.loads(data), susan.id, "susan", 30)


def test_an_export_that_fails_ends_complete_with_an_error_and_no_longer_blocks_another(
    app: Flask, client: FlaskClient, make_user: Callable[..., ApiUser]
) -> None:
    app.config["EXPORT_BATCH_SIZE"] = 0  # the job refuses it: a real failure inside the job
    susan = make_user("susan")
    insert_posts(app, susan.id, 3)

    task = start_export(client, susan.headers)
    failed, _ = wait_for_task(client, susan.headers, task["id"])

    assert failed["error"] == FAILED
    assert failed["finished_at"] is not None
    assert failed["_links"]["result"] is None
    result = client.get(f"/api/tasks/{task['id']}/result", headers=susan.headers)
    assert result.status_code == 409
    assert "failed" in result.json["message"]
    with app.app_context():
        [note] = db.session.scalars(notifications_for(susan.id)).all()
        assert note.payload == {"task_id": task["id"], "progress": 0, "complete": True}

    app.config["EXPORT_BATCH_SIZE"] = 500
    again = start_export(client, susan.headers)
    done, _ = wait_for_task(client, susan.headers, again["id"])
    assert done["error"] is None


def test_a_task_whose_name_has_no_job_ends_with_an_error(
    app: Flask, client: FlaskClient, make_user: Callable[..., ApiUser]
) -> None:
    from microblog.tasks.executors import executor_of

    susan = make_user("susan")
    with app.app_context():
        task = Task(user_id=susan.id, name="make_coffee")
        db.session.add(task)
        db.session.commit()
        task_id = task.id
    executor_of(app).submit(task_id)
    stop_jobs(app)

    with app.app_context():
        stored = db.session.scalars(sa.select(Task).where(Task.id == task_id)).one()
        assert stored.complete
        assert stored.error == "there is no job named 'make_coffee'"
