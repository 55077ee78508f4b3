"""Background tasks: start an export of your posts, watch its progress, download the result."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from flask import Blueprint

from microblog.api.auth import current_user
from microblog.api.pagination import paginate
from microblog.api.representations import PREFIX
from microblog.api.schemas import Collection, PageQuery
from microblog.api.spec import RESPONSE_ID, Link, Reply, operation
from microblog.api.task_schemas import ExportOut, TaskCreate, TaskOut
from microblog.extensions import db
from microblog.tasks.executors import current_executor
from microblog.tasks.models import Task
from microblog.tasks.services import (
    get_task,
    result_available,
    result_expires_at,
    start_task,
    task_count,
    task_result,
    tasks_of,
)

bp = Blueprint("tasks", __name__)


def task_url(task_id: str) -> str:
    return f"{PREFIX}/tasks/{task_id}"


def task_json(task: Task) -> dict[str, Any]:
    url = task_url(task.id)
    return {
        "id": task.id,
        "name": task.name,
        "progress": task.progress,
        "complete": task.complete,
        "error": task.error,
        "created_at": task.created_at,
        "finished_at": task.finished_at,
        "expires_at": result_expires_at(task),
        "_links": {"self": url, "result": f"{url}/result" if result_available(task) else None},
    }


@bp.post("/tasks")
@operation(
    tag="tasks",
    body=TaskCreate,
    response=TaskOut,
    status=202,
    errors=(400, 409),
    headers=("Location",),
    idempotent=True,
    links=(
        Link("GetTask", "api.tasks.get_one_task", {"task_id": RESPONSE_ID}),
        Link(
            "GetTaskResult",
            "api.tasks.get_task_result",
            {"task_id": RESPONSE_ID},
            description="409 until done.",
        ),
    ),
)
def create_task(body: TaskCreate) -> Reply:
    """Start a background task.

    `{"name": "export_posts"}` exports all your posts as JSON (the only task for now). Answers
    202 at once; poll the task at `Location` until `complete`, then fetch `_links.result`. The
    export is also mailed to you. One export at a time: 409 while another is running.
    """
    task = start_task(db.session, current_user(), body.name, current_executor())
    return Reply(task_json(task), headers={"Location": task_url(task.id)})


@bp.get("/tasks")
@operation(tag="tasks", query=PageQuery, response=Collection[TaskOut], errors=(400,))
def list_tasks(query: PageQuery) -> Reply:
    """Your tasks, newest first."""
    user_id = current_user().id
    return paginate(
        tasks_of(user_id), query, task_json, total=lambda: task_count(db.session, user_id)
    )


@bp.get("/tasks/<uuid:task_id>")
@operation(tag="tasks", response=TaskOut, errors=(404,))
def get_one_task(task_id: uuid.UUID) -> dict[str, Any]:
    """One of your tasks.

    `progress` goes from 0 to 100; once `complete`, `error` says why it failed or
    `_links.result` leads to what it produced. Another user's task is not found (404).
    """
    return task_json(get_task(db.session, current_user(), str(task_id)))


@bp.get("/tasks/<uuid:task_id>/result")
@operation(tag="tasks", response=ExportOut, errors=(404, 409, 410))
def get_task_result(task_id: uuid.UUID) -> Any:
    """What a complete task produced.

    For `export_posts`: you and your posts, oldest first. 409 while the task is running, or if
    it failed; 410 once it expired (the task's `expires_at`, EXPORT_RESULT_TTL after it
    finished): start another.
    """
    return orjson.loads(task_result(db.session, current_user(), str(task_id)))
