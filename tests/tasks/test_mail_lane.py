"""Mail (reset links, which anyone may ask for) runs in a lane of its own, bounded: a flood
of it neither holds up another user's export nor piles up without end."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from redis import Redis
from rq import Queue

from microblog.tasks.executors import mail_queue_name
from tests.support import ApiUser, stop_jobs
from tests.tasks.task_support import (
    Inbox,
    insert_posts,
    run_burst_worker,
    running_smtp,
    smtp_settings,
    start_export,
    wait_for_task,
    worker_env,
)
from tests.web.web_support import Browser

FLOOD = 200


class SlowInbox(Inbox):
    """A mail server that takes its time over each message, as a distant one does."""

    delay = 0.05

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(self.delay)
        return await super().handle_DATA(server, session, envelope)


class HeldInbox(Inbox):
    """A mail server that accepts nothing until the test lets it (`release`)."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        while not self.release.is_set():
            await asyncio.sleep(0.01)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def mailing_app(make_other_app: Callable[..., Flask]) -> Iterator[Callable[..., Flask]]:
    """`mailing_app(inbox, **settings)`: an app mailing through a real SMTP server that hands
    what it receives to `inbox`; its mail is sent before the server stops."""
    made: list[Flask] = []
    with contextlib.ExitStack() as servers:

        def make(inbox: Inbox, **settings: Any) -> Flask:
            port = servers.enter_context(running_smtp(inbox))
            app = make_other_app(
                **smtp_settings(port),
                **settings,
            )
            made.append(app)
            return app

        yield make
        for app in made:
            stop_jobs(app)


def ask_for_reset_links(app: Flask, address: str, count: int) -> None:
    """`count` reset requests for `address` from one browser, as fast as the app answers."""
    person = Browser(app.test_client())
    token = person.csrf_token("/reset_password_request")
    for _ in range(count):
        answer = person.post(
            "/reset_password_request", {"email": address, "csrf_token": token}, token_from=None
        )
        assert (answer.status_code, answer.location) == (302, "/login")


def test_a_flood_of_reset_mails_does_not_hold_up_another_users_export(
    mailing_app: Callable[..., Flask], make_user: Callable[..., ApiUser]
) -> None:
    inbox = SlowInbox()
    app = mailing_app(inbox)
    client = app.test_client()
    make_user("susan")
    john = make_user("john")
    insert_posts(app, john.id, 50)

    ask_for_reset_links(app, "susan@example.com", FLOOD)
    started = time.perf_counter()
    task = start_export(client, john.headers)
    done, _ = wait_for_task(client, john.headers, task["id"])
    elapsed = time.perf_counter() - started
    mailed_meanwhile = len(inbox.messages)

    assert done["error"] is None
    # The shared pool sent every queued reset mail first (the export waited ~10 s for them).
    assert mailed_meanwhile < FLOOD // 4, (mailed_meanwhile, elapsed)
    print(f"\nexport behind {FLOOD} reset requests: {elapsed:.2f} s, {mailed_meanwhile} mailed")


def test_reset_mails_past_the_backlog_are_dropped_with_a_warning(
    mailing_app: Callable[..., Flask],
    make_user: Callable[..., ApiUser],
    caplog: pytest.LogCaptureFixture,
) -> None:
    inbox = HeldInbox()
    app = mailing_app(inbox, MAIL_BACKLOG=3)
    make_user("susan")

    ask_for_reset_links(app, "susan@example.com", 5)

    dropped = [r for r in caplog.records if "dropped" in r.getMessage()]
    assert [r.levelname for r in dropped] == ["WARNING", "WARNING"]
    assert "susan@example.com" not in caplog.text, "an address does not go to the log"
    inbox.release.set()
    stop_jobs(app)
    assert [to for [to] in inbox.recipients] == ["susan@example.com"] * 3


def test_with_redis_mail_has_a_bounded_queue_and_the_worker_runs_tasks_before_mail(
    make_other_app: Callable[..., Flask],
    make_user: Callable[..., ApiUser],
    database_url: str,
    redis_url: str,
    queue_name: str,
    smtp_server: tuple[str, int, Inbox],
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    queued = make_other_app(REDIS_URL=redis_url, TASK_QUEUE=queue_name, MAIL_BACKLOG=3)
    make_user("susan")
    john = make_user("john")
    insert_posts(queued, john.id, 50)
    redis = Redis.from_url(redis_url)

    ask_for_reset_links(queued, "susan@example.com", 5)
    task = start_export(queued.test_client(), john.headers)

    assert Queue(mail_queue_name(queue_name), connection=redis).count == 3
    assert Queue(queue_name, connection=redis).job_ids == [task["id"]]
    assert len([r for r in caplog.records if "dropped" in r.getMessage()]) == 2
    host, port, inbox = smtp_server
    env = worker_env(
        database_url, redis_url, MAIL_SERVER=host, MAIL_PORT=str(port), TASK_QUEUE=queue_name
    )
    worker = run_burst_worker(env, tmp_path)
    assert worker.returncode == 0, worker.stdout + worker.stderr
    inbox.wait_for(4)
    # The export (mailed to john when it is done) ran first, though queued last.
    assert inbox.recipients == [["john@example.com"]] + [["susan@example.com"]] * 3
