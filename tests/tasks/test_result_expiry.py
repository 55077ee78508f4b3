"""Export results are kept EXPORT_RESULT_TTL after they finish, then removed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from microblog import create_app
from tests.support import ApiUser, stop_jobs
from tests.tasks.task_support import start_export, stored_export, stored_result, wait_for_task

OLD_EXPORT = '{"user": {}, "exported_at": "", "posts": []}'


def test_each_export_removes_every_user_s_expired_results_and_keeps_the_fresh_ones(
    app: Flask, client: FlaskClient, make_user: Callable[..., ApiUser]
) -> None:
    app.config["EXPORT_RESULT_TTL"] = timedelta(days=2)
    susan, john = make_user("susan"), make_user("john")
    expired = stored_export(app, john.id, timedelta(days=2, minutes=1), OLD_EXPORT)
    fresh = stored_export(app, john.id, timedelta(days=1), OLD_EXPORT)

    task = start_export(client, susan.headers)
    done, _ = wait_for_task(client, susan.headers, task["id"])

    assert done["error"] is None and done["_links"]["result"]
    assert stored_result(app, expired) is None
    assert stored_result(app, fresh) == OLD_EXPORT
    assert stored_result(app, task["id"]) is not None
    gone = client.get(f"/api/tasks/{expired}/result", headers=john.headers)
    assert gone.status_code == 410, gone.json


def test_microblog_expire_results_removes_the_expired_results(
    app: Flask, make_user: Callable[..., ApiUser]
) -> None:
    susan = make_user("susan")
    ttl = app.config["EXPORT_RESULT_TTL"]
    expired = stored_export(app, susan.id, ttl + timedelta(minutes=1), OLD_EXPORT)
    fresh = stored_export(app, susan.id, ttl - timedelta(minutes=1), OLD_EXPORT)

    outcome = app.test_cli_runner().invoke(args=["expire-results"])

    assert outcome.exit_code == 0, outcome.output
    assert "Removed 1 expired export results." in outcome.output
    assert (stored_result(app, expired), stored_result(app, fresh)) == (None, OLD_EXPORT)


def test_the_result_lifetime_and_the_mail_lane_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/chosen.db")
    default = create_app()
    monkeypatch.setenv("EXPORT_RESULT_TTL", "3600")
    monkeypatch.setenv("MAIL_THREADS", "2")
    monkeypatch.setenv("MAIL_BACKLOG", "7")
    chosen = create_app()
    try:
        assert default.config["EXPORT_RESULT_TTL"] == timedelta(days=3)
        assert (default.config["MAIL_THREADS"], default.config["MAIL_BACKLOG"]) == (1, 100)
        assert chosen.config["EXPORT_RESULT_TTL"] == timedelta(hours=1)
        assert (chosen.config["MAIL_THREADS"], chosen.config["MAIL_BACKLOG"]) == (2, 7)
    finally:
        stop_jobs(default)
        stop_jobs(chosen)
