"""The tasks API: start an export, watch it, fetch its result; each user sees only their own."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from microblog.db import utcnow, write_intent
from microblog.extensions import db
from microblog.tasks.models import Task
from tests.api.api_helpers import (
    assert_close_to_now,
    assert_json_error,
    link_header,
    page_of,
    parse_timestamp,
)
from tests.support import ApiUser
from tests.tasks.task_support import (
    finished_exports,
    insert_posts,
    start_export,
    stored_export,
    wait_for_task,
)

TASK_FIELDS = {
    "id",
    "name",
    "progress",
    "complete",
    "error",
    "created_at",
    "finished_at",
    "expires_at",
    "_links",
}


def export_document(user: ApiUser) -> str:
    """An export of the user's (no posts), as a finished task stores it."""
    user_part = {"id": user.id, "username": user.username}
    return json.dumps({"user": user_part, "exported_at": utcnow().isoformat(), "posts": []})


def running_task(app: Flask, user_id: int, minutes_ago: int = 0) -> str:
    """A task that is running as far as the database knows (no job will move it)."""
    with app.app_context(), write_intent():
        task = Task(
            user_id=user_id,
            name="export_posts",
            created_at=utcnow() - timedelta(minutes=minutes_ago),
        )
        db.session.add(task)
        db.session.commit()
        return task.id


def test_starting_an_export_answers_202_with_the_task_and_its_location(
    client: FlaskClient, make_user: Callable[..., ApiUser]
) -> None:
    susan = make_user("susan")

    response = client.post("/api/tasks", json={"name": "export_posts"}, headers=susan.headers)

    assert response.status_code == 202
    task = response.json
    assert set(task) == TASK_FIELDS
    assert uuid.UUID(task["id"])
    assert response.headers["Location"] == f"/api/tasks/{task['id']}"
    assert task["_links"] == {"self": f"/api/tasks/{task['id']}", "result": None}
    assert task["name"] == "export_posts"
    assert (task["progress"], task["complete"], task["error"]) == (0, False, None)
    assert task["finished_at"] is None
    assert_close_to_now(parse_timestamp(task["created_at"]))


def test_a_finished_task_shows_its_result_link_and_the_result_is_the_export(
    app: Flask, client: FlaskClient, make_user: Callable[..., ApiUser]
) -> None:
    susan = make_user("susan")
    david = make_user("david")
    insert_posts(app, susan.id, 3)
    insert_posts(app, david.id, 2)

    task = start_export(client, susan.headers)
    done, _ = wait_for_task(client, susan.headers, task["id"])

    assert done["progress"] == 100
    assert done["_links"]["result"] == f"/api/tasks/{task['id']}/result"
    assert parse_timestamp(done["finished_at"]) >= parse_timestamp(done["created_at"])
    result = client.get(done["_links"]["result"], headers=susan.headers)
    assert result.status_code == 200
    export: dict[str, Any] = result.json
    assert export["user"] == {"id": susan.id, "username": "susan"}
    assert_close_to_now(parse_timestamp(export["exported_at"]))
    assert [post["body"] for post in export["posts"]] == [
        "post number 0",
        "post number 1",
        "post number 2",
    ]
    assert {post["language"] for post in export["posts"]} == {"en"}


def test_a_user_with_no_posts_gets_an_empty_export(
    client: FlaskClient, make_user: Callable[..., ApiUser]
) -> None:
    susan = make_user("susan")
    task = start_export(client, susan.headers)
    done, _ = wait_for_task(client, susan.headers, task["id"])
    result = client.get(done["_links"]["result"], headers=susan.headers)
    assert result.json["posts"] == []


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"name": "export_followers"}, ("name", "export_posts")),
        ({"name": ""}, ("name",)),
        ({}, ("name", "required")),
        ({"name": 1}, ("name", "str")),
    ],
)
def test_only_a_known_task_name_can_be_started(
    client: FlaskClient, make_user: Callable[..., ApiUser], body: dict[str, Any], words: str
) -> None:
    susan = make_user("susan")
    response = client.post("/api/tasks", json=body, headers=susan.headers)
    assert_json_error(response, 400, *words)


def test_tasks_need_a_bearer_token(client: FlaskClient) -> None:
    assert_json_error(client.post("/api/tasks", json={"name": "export_posts"}), 401)
    assert_json_error(client.get("/api/tasks"), 401)
    assert_json_error(client.get(f"/api/tasks/{uuid.uuid4()}"), 401)
    assert_json_error(client.get(f"/api/tasks/{uuid.uuid4()}/result"), 401)


def test_a_second_export_while_one_runs_is_refused_with_409(
    app: Flask, client: FlaskClient, make_user: Callable[..., ApiUser]
) -> None:
    susan = make_user("susan")
    running = running_task(app, susan.id)

    response = client.post("/api/tasks", json={"name": "export_posts"}, headers=susan.headers)

    assert_json_error(response, 409, "already running")
    listed = client.get("/api/tasks", headers=susan.headers).json
    assert [task["id"] for task in listed["items"]] == [running]


def test_another_users_running_export_does_not_stop_yours(
    app: Flask, client: FlaskClient, make_user: Callable[..., ApiUser]
) -> None:
    susan = make_user("susan")
    david = make_user("david")
    running_task(app, david.id)
    start_export(client, susan.headers)


def test_once_an_export_is_complete_another_can_be_started(
    client: FlaskClient, make_user: Callable[..., ApiUser]
) -> None:
    susan = make_user("susan")
    first = start_export(client, susan.headers)
    wait_for_task(client, susan.headers, first["id"])

    second = start_export(client, susan.headers)

    assert second["id"] != first["id"]


def test_a_retried_start_with_the_same_idempotency_key_answers_the_same_task(
    client: FlaskClient, make_user: Callable[..., ApiUser]
) -> None:
    susan = make_user("susan")
    headers = {**susan.headers, "Idempotency-Key": "export-1"}
    first = client.post("/api/tasks", json={"name": "export_posts"}, headers=headers)
    wait_for_task(client, susan.headers, first.json["id"])

    retry = client.post("/api/tasks", json={"name": "export_posts"}, headers=headers)

    assert retry.status_code == 202
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json["id"] == first.json["id"]
    assert len(client.get("/api/tasks", headers=susan.headers).json["items"]) == 1


def test_another_users_task_and_result_are_not_found(
    client: FlaskClient, make_user: Callable[..., ApiUser]
) -> None:
    susan = make_user("susan")
    david = make_user("david")
    task = start_export(client, susan.headers)
    wait_for_task(client, susan.headers, task["id"])

    assert_json_error(client.get(f"/api/tasks/{task['id']}", headers=david.headers), 404)
    assert_json_error(client.get(f"/api/tasks/{task['id']}/result", headers=david.headers), 404)
    assert client.get("/api/tasks", headers=david.headers).json["items"] == []


@pytest.mark.parametrize("suffix", ["", "/result"])
@pytest.mark.parametrize("task_id", [str(uuid.uuid4()), "not-a-task", "1", "%00", "x" * 300])
def test_an_unknown_task_is_not_found(
    client: FlaskClient, make_user: Callable[..., ApiUser], task_id: str, suffix: str
) -> None:
    susan = make_user("susan")
    response = client.get(f"/api/tasks/{task_id}{suffix}", headers=susan.headers)
    assert_json_error(response, 404)


def test_the_result_of_a_running_task_is_a_409(
    app: Flask, client: FlaskClient, make_user: Callable[..., ApiUser]
) -> None:
    susan = make_user("susan")
    running = running_task(app, susan.id)

    shown = client.get(f"/api/tasks/{running}", headers=susan.headers).json
    assert shown["_links"]["result"] is None
    response = client.get(f"/api/tasks/{running}/result", headers=susan.headers)
    assert_json_error(response, 409, "the task is not complete yet")


def test_a_task_id_is_found_in_upper_case_too(
    app: Flask, client: FlaskClient, make_user: Callable[..., ApiUser]
) -> None:
    susan = make_user("susan")
    running = running_task(app, susan.id)
    response = client.get(f"/api/tasks/{running.upper()}", headers=susan.headers)
    assert response.status_code == 200
    assert response.json["id"] == running


def test_your_tasks_are_listed_newest_first_as_a_paged_collection(
    app: Flask, client: FlaskClient, make_user: Callable[..., ApiUser]
) -> None:
    susan = make_user("susan")
    david = make_user("david")
    finished_exports(app, susan.id, 30, 10, 20)
    running_task(app, david.id)
    newest = start_export(client, susan.headers)

    first = client.get("/api/tasks?per_page=2", headers=susan.headers)
    second = client.get(first.json["_links"]["next"], headers=susan.headers)

    assert first.status_code == 200
    assert first.json["_meta"] == {"page": 1, "per_page": 2, "total_pages": 2, "total_items": 4}
    assert page_of(first.json["_links"]["next"]) == (2, 2)
    assert link_header(first)["next"] == first.json["_links"]["next"]
    items = first.json["items"] + second.json["items"]
    assert all(set(item) == TASK_FIELDS for item in items)
    assert items[0]["id"] == newest["id"]
    created = [parse_timestamp(item["created_at"]) for item in items]
    assert created == sorted(created, reverse=True)
    assert second.json["_links"]["next"] is None


def test_a_result_is_fetched_until_it_expires_then_answers_410_and_is_no_longer_linked(
    app: Flask, client: FlaskClient, make_user: Callable[..., ApiUser]
) -> None:
    susan = make_user("susan")
    ttl = app.config["EXPORT_RESULT_TTL"]
    fresh = stored_export(app, susan.id, ttl - timedelta(minutes=5), export_document(susan))
    stale = stored_export(app, susan.id, ttl + timedelta(minutes=5), export_document(susan))

    result = client.get(f"/api/tasks/{fresh}/result", headers=susan.headers)
    assert result.status_code == 200 and result.json["user"]["username"] == "susan"
    shown = client.get(f"/api/tasks/{fresh}", headers=susan.headers).json
    assert shown["_links"]["result"] == f"/api/tasks/{fresh}/result"
    expires_at = parse_timestamp(shown["expires_at"])
    assert expires_at == parse_timestamp(shown["finished_at"]) + ttl

    gone = client.get(f"/api/tasks/{stale}/result", headers=susan.headers)
    assert_json_error(gone, 410, "expired", "start the task again")
    shown = client.get(f"/api/tasks/{stale}", headers=susan.headers).json
    assert shown["_links"]["result"] is None
    assert parse_timestamp(shown["expires_at"]) < utcnow()


def test_listing_tasks_never_reads_their_results(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., ApiUser],
    count_queries: Callable[[], Any],
) -> None:
    susan = make_user("susan")
    for minutes in range(3):
        stored_export(app, susan.id, timedelta(minutes=minutes), export_document(susan))

    with count_queries() as counted:
        listed = client.get("/api/tasks", headers=susan.headers)

    assert listed.status_code == 200 and len(listed.json["items"]) == 3
    assert all(item["_links"]["result"] for item in listed.json["items"])
    assert any("FROM tasks" in sql for sql in counted.statements), counted.statements
    assert not [sql for sql in counted.statements if "task_results" in sql or "result" in sql]


def test_the_openapi_operations_declare_their_errors() -> None:
    from microblog.api import tasks

    declared = {
        name: view.__operation__.errors
        for name, view in vars(tasks).items()
        if hasattr(view, "__operation__")
    }
    assert declared == {
        "create_task": (400, 409),
        "list_tasks": (400,),
        "get_one_task": (404,),
        "get_task_result": (404, 409, 410),
    }
