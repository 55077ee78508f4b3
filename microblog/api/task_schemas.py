"""The API's types for background tasks: the request that starts one, and what it shows."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypedDict

from microblog.api.schemas import Timestamp
from microblog.tasks.services import TASK_NAMES


class TaskCreate(BaseModel):
    # As every body: unknown fields ignored, no type coercion.
    model_config = ConfigDict(extra="ignore", strict=True)

    # Documented as an enum; the domain refuses other names with a message that lists these.
    name: str = Field(
        description='the task to start; for now only "export_posts"',
        json_schema_extra={"enum": list(TASK_NAMES)},
    )


class TaskLinks(TypedDict):
    self: str
    result: str | None


class TaskOut(TypedDict):
    id: str
    name: str
    progress: int
    complete: bool
    error: str | None
    created_at: Timestamp
    finished_at: Timestamp | None
    # When the result goes (EXPORT_RESULT_TTL after finished_at); null without one.
    expires_at: Timestamp | None
    _links: TaskLinks


class ExportedUser(TypedDict):
    id: int
    username: str


class ExportedPost(TypedDict):
    id: int
    body: str
    timestamp: str
    language: str | None


class ExportOut(TypedDict):
    """The result of export_posts: stored as written when the task ran (times as ISO 8601)."""

    user: ExportedUser
    exported_at: str
    posts: list[ExportedPost]
