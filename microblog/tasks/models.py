"""A background task a user started, with its progress and result."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from microblog.db import Base, UTCDateTime, utcnow


class Task(Base):
    __tablename__ = "tasks"

    # A random id: task URLs should not let one user count another's exports.
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=lambda: str(uuid.uuid4()))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    progress: Mapped[int] = mapped_column(default=0, server_default="0")
    complete: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The error message if it failed (the result, if any, is a TaskResult).
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def has_result(self) -> bool:
        """Whether there is a result to fetch: the task completed, and without an error."""
        return self.complete and self.error is None


class TaskResult(Base):
    """What a task produced (an export: megabytes of JSON), kept apart from the task so that
    reading tasks never reads it, until it expires (EXPORT_RESULT_TTL after finished_at)."""

    __tablename__ = "task_results"

    task_id: Mapped[str] = mapped_column(
        ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True
    )
    body: Mapped[str] = mapped_column(Text)


# One running task per user and name, enforced by the database so two racing requests
# cannot both start an export.
Index(
    "uq_tasks_one_running",
    Task.user_id,
    Task.name,
    unique=True,
    sqlite_where=~Task.complete,
    postgresql_where=~Task.complete,
)
