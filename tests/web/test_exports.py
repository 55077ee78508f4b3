"""Export my posts: start it, watch its progress, download the file."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from microblog.tasks.executors import EXTENSION, executor_of
from microblog.tasks.services import Executor
from tests.tasks.task_support import assert_full_export, insert_posts, stored_export
from tests.web.web_support import Browser, flashes, text

TASK_PAGE = re.compile(r"^/export/([0-9a-f-]+)$")


@dataclass
class HeldExecutor:
    """Keeps the jobs it is given, so a task stays running until the test lets it go
    (hands it to the app's own executor, `original`)."""

    original: Executor
    held: list[str] = field(default_factory=list)

    def submit(self, task_id: str) -> None:
        self.held.append(task_id)

    def call(self, job: str, *args: str) -> None:
        self.original.call(job, *args)


@pytest.fixture
def held(app: Flask, monkeypatch: pytest.MonkeyPatch) -> HeldExecutor:
    """The app's executor, holding jobs for the test (the real one is back afterwards)."""
    executor = HeldExecutor(executor_of(app))
    monkeypatch.setitem(app.extensions, EXTENSION, executor)
    return executor


def start_export(person: Browser) -> str:
    started = person.post("/export", token_from="/user/susan")
    assert started.status_code == 302, text(started)
    match = TASK_PAGE.match(started.location)
    assert match, started.location
    return started.location


def wait_until_complete(person: Browser, page: str, timeout: float = 60) -> list[dict[str, Any]]:
    """Poll the status as the progress bar does; every answer seen."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while True:
        status = person.get(f"{page}/status", headers={"Accept": "application/json"})
        assert status.status_code == 200 and status.json is not None
        seen.append(status.json)
        if status.json["complete"]:
            return seen
        if time.monotonic() > deadline:
            pytest.fail(f"the export was not complete after {timeout} s: {status.json}")
        time.sleep(0.005)


def test_an_export_shows_its_progress_then_downloads_every_post(
    app: Flask, signed_in: Callable[..., Browser]
) -> None:
    app.config["EXPORT_BATCH_SIZE"] = 10
    susan = signed_in("susan")
    insert_posts(app, 1, 95)

    page = start_export(susan)
    progress = susan.get(page)
    assert progress.status_code == 200
    html = text(progress)
    assert "<h1>Export my posts</h1>" in html
    assert f'data-status="{page}/status"' in html
    assert re.search(r'<div class="progress mb-3" role="progressbar"[^>]*aria-valuenow="\d+"', html)
    assert 'id="export-bar"' in html and f'href="{page}/download">Download</a>' in html

    seen = wait_until_complete(susan, page)
    done = seen[-1]
    assert done == {
        "progress": 100,
        "complete": True,
        "error": None,
        "download": f"{page}/download",
    }
    assert [answer["progress"] for answer in seen] == sorted(a["progress"] for a in seen)
    assert all(answer["download"] is None for answer in seen[:-1])
    assert 'class="btn btn-success"' in text(susan.get(page))  # the button is shown now

    download = susan.get(f"{page}/download")
    assert download.status_code == 200
    assert download.mimetype == "application/json"
    assert download.headers["Content-Disposition"] == (
        'attachment; filename="microblog-susan-posts.json"'
    )
    assert_full_export(json.loads(download.data), 1, "susan", 95)


def test_a_second_export_while_one_runs_is_refused_with_a_message(
    app: Flask, signed_in: Callable[..., Browser], held: HeldExecutor
) -> None:
    susan = signed_in("susan")
    insert_posts(app, 1, 3)
    page = start_export(susan)

    again = susan.post("/export", token_from="/user/susan")
    assert (again.status_code, again.location) == (302, "/user/susan")
    assert flashes(susan.get("/user/susan")) == [
        "an export_posts task is already running; wait until it is complete"
    ]
    status = susan.get(f"{page}/status").json
    assert status == {"progress": 0, "complete": False, "error": None, "download": None}
    early = susan.get(f"{page}/download")
    assert early.status_code == 409

    [task_id] = held.held
    held.original.submit(task_id)
    wait_until_complete(susan, page)
    assert susan.get(f"{page}/download").status_code == 200
    assert TASK_PAGE.match(start_export(susan))  # one at a time, and the first is done


@pytest.mark.usefixtures("held")
def test_the_refusal_is_in_spanish_for_a_spanish_reader(
    signed_in: Callable[..., Browser],
) -> None:
    susan = signed_in("susan", language="es")
    start_export(susan)
    susan.post("/export", token_from="/user/susan")
    assert flashes(susan.get("/user/susan")) == [
        "ya hay una exportación de tus publicaciones en curso; espera a que termine"
    ]


@pytest.mark.usefixtures("held")
def test_someone_else_s_export_does_not_exist_for_you(
    signed_in: Callable[..., Browser],
) -> None:
    susan = signed_in("susan")
    page = start_export(susan)
    john = signed_in("john")
    for path in (page, f"{page}/status", f"{page}/download", "/export/not-a-task/download"):
        response = john.get(path)
        assert response.status_code == 404, path
        assert "<h1>404 Not Found</h1>" in text(response), path


def test_an_expired_export_says_so_and_its_download_is_gone(
    app: Flask, signed_in: Callable[..., Browser]
) -> None:
    susan = signed_in("susan", language="es")
    ttl = app.config["EXPORT_RESULT_TTL"]
    task_id = stored_export(app, 1, ttl + timedelta(minutes=1), '{"posts": []}')
    page = f"/export/{task_id}"

    shown = text(susan.get(page))
    assert "Esta exportación ha caducado: empieza otra desde tu perfil." in shown
    status = susan.get(f"{page}/status").json
    assert status is not None and (status["complete"], status["download"]) == (True, None)
    download = susan.get(f"{page}/download")
    assert download.status_code == 410
    assert "caducó" in download.get_data(as_text=True)
