"""Notifications: what a user should hear about, polled by clients after the last one seen.

A notification has a name ("unread_message_count", "new_follower", "task_progress") and a JSON
payload. Names that describe a state rather than an event (an unread count, a task's progress)
replace their previous notification, so a client that polls seldom gets the latest state once
instead of every step of it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, select

from microblog.db import Db, utcnow
from microblog.messaging.models import Notification

# Names whose newest notification supersedes the older ones, and the payload key that tells
# which older ones (None: every older one of that name).
STATEFUL: dict[str, str | None] = {"unread_message_count": None, "task_progress": "task_id"}


def notify(
    session: Db,
    user_id: int,
    name: str,
    payload: dict[str, Any],
    *,
    subject_id: int | None = None,
) -> Notification:
    """Tell `user_id` something; `subject_id` is the other person it names, if any: the
    notification goes with their account (erasure)."""
    if name in STATEFUL:
        stale = delete(Notification).where(
            Notification.user_id == user_id, Notification.name == name
        )
        key = STATEFUL[name]
        if key is not None:
            stale = stale.where(Notification.payload[key].as_string() == str(payload[key]))
        session.execute(stale)
    notification = Notification(
        user_id=user_id, subject_id=subject_id, name=name, payload=payload, timestamp=utcnow()
    )
    session.add(notification)
    session.flush()
    return notification


def notifications_for(
    user_id: int, *, since_id: int | None = None, since_time: datetime | None = None
) -> Select[Notification]:
    """The user's notifications after a point, oldest first."""
    query = select(Notification).where(Notification.user_id == user_id)
    if since_id is not None:
        query = query.where(Notification.id > since_id)
    if since_time is not None:
        query = query.where(Notification.timestamp > since_time)
    return query.order_by(Notification.id)
