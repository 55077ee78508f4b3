"""Jobs through Redis: RQ on the real server, run by `microblog worker` processes."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from flask import Flask
from redis import Redis
from rq import Queue

from microblog.tasks.executors import (
    UNQUEUED,
    RQExecutor,
    ThreadExecutor,
    executor_of,
    mail_queue_name,
)
from tests.support import ApiUser
from tests.tasks.task_support import (
    MICROBLOG,
    Inbox,
    assert_full_export,
    attachments_of,
    free_port,
    insert_posts,
    run_burst_worker,
    smtp_settings,
    start_export,
    wait_for_task,
    worker_env,
)
from tests.web.web_support import Browser

POSTS = 5_000


def test_the_app_queues_jobs_on_redis_when_redis_url_is_set_and_uses_threads_otherwise(
    make_other_app: Callable[..., Flask], redis_url: str
) -> None:
    queued = make_other_app(REDIS_URL=redis_url)
    threaded = make_other_app(REDIS_URL=None)
    assert isinstance(executor_of(queued), RQExecutor)
    assert isinstance(executor_of(threaded), ThreadExecutor)


def test_an_export_of_5000_posts_runs_on_a_real_worker_showing_progress_and_mails_the_result(
    make_other_app: Callable[..., Flask],
    make_user: Callable[..., ApiUser],
    database_url: str,
    redis_url: str,
    queue_name: str,
    smtp_server: tuple[str, int, Inbox],
    tmp_path: Path,
) -> None:
    queued = make_other_app(REDIS_URL=redis_url, TASK_QUEUE=queue_name)
    client = queued.test_client()
    susan = make_user("susan")
    insert_posts(queued, susan.id, POSTS)

    task = start_export(client, susan.headers)
    queue = Queue(queue_name, connection=Redis.from_url(redis_url))
    assert queue.job_ids == [task["id"]], "queued once the request committed, nothing runs it yet"
    assert client.get(f"/api/tasks/{task['id']}", headers=susan.headers).json["progress"] == 0

    host, port, inbox = smtp_server
    env = worker_env(
        database_url,
        redis_url,
        MAIL_SERVER=host,
        MAIL_PORT=str(port),
        PUBLIC_URL="https://microblog.example.com",
        # A hundred committed steps, so a client polling meanwhile sees some of them.
        EXPORT_BATCH_SIZE="50",
    )
    log_path = tmp_path / "worker.log"
    started = time.perf_counter()
    with log_path.open("wb") as log:
        worker = subprocess.Popen(
            [MICROBLOG, "worker", "--burst", "--queue", queue_name],
            env=env,
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            done, seen = wait_for_task(client, susan.headers, task["id"], timeout=120)
            elapsed = time.perf_counter() - started
            assert worker.wait(timeout=60) == 0, log_path.read_text()
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait()

    assert done["error"] is None, log_path.read_text()
    assert any(0 < progress < 100 for progress in seen), seen
    assert seen == sorted(seen)
    result = client.get(done["_links"]["result"], headers=susan.headers)
    assert_full_export(result.json, susan.id, "susan", POSTS)
    assert queue.count == 0

    [message] = inbox.wait_for(1)
    assert message["To"] == "susan@example.com"
    [(_, data)] = attachments_of(message).values()
    assert_full_export(json.loads(data), susan.id, "susan", POSTS)
    steps = sorted(set(seen))
    print(f"\nRQ worker: {POSTS} posts in {elapsed:.2f} s (worker start included); saw {steps}")


def test_a_burst_worker_on_an_empty_queue_exits_at_once(
    database_url: str, redis_url: str, queue_name: str, tmp_path: Path
) -> None:
    finished = run_burst_worker(
        worker_env(database_url, redis_url), tmp_path, "--queue", queue_name
    )
    assert finished.returncode == 0, finished.stderr


def test_the_worker_refuses_to_start_without_redis_url(app: Flask) -> None:
    app.config["REDIS_URL"] = None
    result = app.test_cli_runner().invoke(args=["worker", "--burst"])
    assert result.exit_code == 1
    assert "REDIS_URL is not set" in result.output


def test_the_worker_says_so_when_redis_is_unreachable(app: Flask) -> None:
    app.config["REDIS_URL"] = f"redis://127.0.0.1:{free_port()}/0"
    result = app.test_cli_runner().invoke(args=["worker", "--burst"])
    assert result.exit_code == 1
    assert "cannot reach Redis" in result.output


def test_a_task_that_cannot_be_queued_ends_with_an_error_instead_of_blocking_the_user(
    make_other_app: Callable[..., Flask], make_user: Callable[..., ApiUser]
) -> None:
    unreachable = make_other_app(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    client = unreachable.test_client()
    susan = make_user("susan")

    task = start_export(client, susan.headers)

    shown = client.get(f"/api/tasks/{task['id']}", headers=susan.headers).json
    assert shown["complete"] is True
    assert shown["error"] == UNQUEUED


def test_a_reset_link_asked_for_in_spanish_is_mailed_by_a_worker_to_the_public_url(
    make_other_app: Callable[..., Flask],
    make_user: Callable[..., ApiUser],
    database_url: str,
    redis_url: str,
    queue_name: str,
    smtp_server: tuple[str, int, Inbox],
    tmp_path: Path,
) -> None:
    queued = make_other_app(REDIS_URL=redis_url, TASK_QUEUE=queue_name)
    make_user("susan")
    person = Browser(queued.test_client(), language="es")
    answer = person.submit("/reset_password_request", {"email": "susan@example.com"})
    assert (answer.status_code, answer.location) == (302, "/login")
    mail_queue = Queue(mail_queue_name(queue_name), connection=Redis.from_url(redis_url))
    assert mail_queue.count == 1, "the request queued the mail and sent nothing itself"

    host, port, inbox = smtp_server
    env = worker_env(
        database_url,
        redis_url,
        MAIL_SERVER=host,
        MAIL_PORT=str(port),
        PUBLIC_URL="https://microblog.example.com",
        TASK_QUEUE=queue_name,
    )
    worker = run_burst_worker(env, tmp_path)
    assert worker.returncode == 0, worker.stdout + worker.stderr

    [message] = inbox.wait_for(1)
    assert message["To"] == "susan@example.com"
    assert message["Subject"] == "[Microblog] Restablece tu contraseña"
    body = message.get_body(("plain",))
    assert body is not None
    assert "https://microblog.example.com/reset_password/" in body.get_content()


def test_a_reset_link_is_still_mailed_while_redis_is_away(
    make_other_app: Callable[..., Flask],
    make_user: Callable[..., ApiUser],
    smtp_server: tuple[str, int, Inbox],
) -> None:
    host, port, inbox = smtp_server
    unreachable = make_other_app(
        REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",
        **smtp_settings(port, host),
    )
    make_user("susan")
    person = Browser(unreachable.test_client())

    answer = person.submit("/reset_password_request", {"email": "susan@example.com"})

    assert (answer.status_code, answer.location) == (302, "/login")
    [message] = inbox.wait_for(1)
    assert message["To"] == "susan@example.com"
    body = message.get_body(("plain",))
    assert body is not None
    assert "http://127.0.0.1:5000/reset_password/" in body.get_content()
